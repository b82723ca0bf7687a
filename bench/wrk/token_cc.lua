-- (e) POST /v1/token grant_type=client_credentials, the API key's id and secret in HTTP Basic: every
-- request is a new grant (an ES256 access token plus a stored refresh token).
-- Usage: wrk ... -s bench/wrk/token_cc.lua http://HOST:PORT -- BASIC   (base64 of "id:secret")
-- Pre-formatted once, like the cheap routes: no response() (it costs client CPU); wrk's non2xx counts failures.
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local req
function init(args)
  assert(args[1] and #args[1] > 0, "usage: token_cc.lua -- BASE64_ID_COLON_SECRET")
  req = wrk.format("POST", "/v1/token", {
    ["Authorization"] = "Basic " .. args[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=client_credentials")
end

function request()
  return req
end
