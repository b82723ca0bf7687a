// POST /v1/rpc: JSON-RPC 2.0 (PrivMX Bridge style) over the same operations as the REST routes.
//
// Envelope: one request object or a batch array of 1 to 100 of them. Requests without an "id" are
// notifications: executed, never answered; when nothing is left to answer the HTTP answer is 204.
// Every other answer is HTTP 200 application/json, errors included; only a body that is not
// application/json gets the REST 415 problem (it is not a JSON-RPC message at all).
//
// Errors: every error is an Error (core/error.hpp), written by rpc_error() alone:
//   -32700 parse error       data.code "malformed_json"       the body is not JSON (id null)
//   -32600 invalid request   data.code "invalid_rpc_request"  not a request object, jsonrpc != "2.0",
//                                                             method not a string, params not an object,
//                                                             id not a string/number/null, unknown member,
//                                                             empty or oversized batch; data.errors names it
//   -32601 method not found  data.code "method_not_found"
//   -32602 invalid params    data.code "invalid_params"       unknown, mistyped or missing params, each
//                                                             named in data.errors [{field, code, detail}]
//   -32603 internal error    data.code "internal_error"       a 5xx; data.request_id; the cause is logged
//   -32000 application error data.code = the REST error code  message = the REST detail; data.status = the
//                                                             REST HTTP status; data.errors and
//                                                             data.missing_permission as in problem+json
// Authentication failures are application errors too (data.code "unauthenticated", "invalid_token", ...).
//
// Methods (named params only): manager/auth, user/create, user/get, user/list, user/update, user/delete,
// context/create, context/list, context/addUserToContext, context/removeUserFromContext, context/listUsers
// (docs/contexts.md).
// manager/auth answers expiries as absolute Unix times in milliseconds (accessTokenExpiry,
// refreshTokenExpiry), as PrivMX Bridge does.
#include <boost/json.hpp>
#include <cctype>
#include <limits>

#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "api/token_grants.hpp"
#include "api/user_commands.hpp"
#include "core/log.hpp"
#include "crypto/random.hpp"
#include "store/store.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
namespace json = boost::json;
using http::HandlerResult;
using http::RequestContext;

namespace {

constexpr size_t kMaxBatch = 100;

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kApplicationError = -32000;

Error invalid_request(std::string message, std::vector<FieldError> fields = {}) {
  Error e = Error::bad_request("invalid_rpc_request", std::move(message));
  e.fields = std::move(fields);
  return e;
}

// The one writer of JSON-RPC error objects: the protocol codes for the protocol's own errors, and
// the REST code, status and details under `data` for everything else.
json::object rpc_error(const Error& e, std::string_view request_id) {
  int code = e.status >= 500                  ? kInternalError
             : e.code == "malformed_json"      ? kParseError
             : e.code == "invalid_rpc_request" ? kInvalidRequest
             : e.code == "method_not_found"    ? kMethodNotFound
             : e.code == "invalid_params"      ? kInvalidParams
                                               : kApplicationError;
  json::object data{{"code", e.code}, {"status", e.status}};
  if (!e.fields.empty()) {
    json::array errors;
    for (auto& f : e.fields) errors.push_back({{"field", f.field}, {"code", f.code}, {"detail", f.detail}});
    data["errors"] = std::move(errors);
  }
  if (!e.missing_permission.empty()) data["missing_permission"] = e.missing_permission;
  if (e.retry_after_seconds > 0) data["retry_after"] = e.retry_after_seconds;
  if (e.status >= 500) {
    data["request_id"] = request_id;
    if (!e.internal.empty()) log::error("rpc call failed", {{"request_id", request_id}, {"code", e.code}, {"internal", e.internal}});
  }
  return {{"code", code}, {"message", e.message}, {"data", std::move(data)}};
}

json::object error_response(const json::value& id, const Error& e, std::string_view request_id) {
  return {{"jsonrpc", "2.0"}, {"error", rpc_error(e, request_id)}, {"id", id}};
}

// The calls of one HTTP request share its credential, authenticated once, when a call first needs it.
class Rpc {
 public:
  Rpc(App& app, const RequestContext& ctx) : app_(app), ctx_(ctx) {}
  App& app() { return app_; }
  Result<Caller> caller(std::string_view permission) {
    if (!caller_) caller_ = authenticate(app_, ctx_);
    if (!*caller_) return fail((*caller_).error());
    if (auto ok = (*caller_)->require(permission); !ok) return fail(ok.error());
    return **caller_;
  }
  Result<ContextReader> context_reader() { return api::context_reader(app_, ctx_); }

 private:
  App& app_;
  const RequestContext& ctx_;
  std::optional<Result<Caller>> caller_;
};

using MethodResult = boost::asio::awaitable<Result<json::value>>;

// Unknown, mistyped or missing params (and `errors` found while reading them): -32602 naming each.
Status check_params(const JsonFields& f, std::vector<FieldError> errors = {}) {
  auto ok = f.finish(std::move(errors));
  if (ok) return ok;
  std::string names;
  for (auto& field : ok.error().fields) names += (names.empty() ? "" : ", ") + field.field;
  Error e = Error::bad_request("invalid_params", "Invalid params: " + names + ".");
  e.fields = std::move(ok.error().fields);
  return fail(std::move(e));
}

MethodResult manager_auth(Rpc& rpc, const json::object& params) {
  JsonFields f(params);
  auto grant_type = f.string("grantType");
  auto key_id = f.string("apiKeyId");
  auto secret = f.string("apiKeySecret");
  auto scope = f.string("scope");
  auto refresh_token = f.string("refreshToken");
  f.require("grantType", grant_type.has_value());
  std::vector<FieldError> errors;
  if (grant_type == "api_key_credentials") {
    f.require("apiKeyId", key_id.has_value());
    f.require("apiKeySecret", secret.has_value());
  } else if (grant_type == "refresh_token") {
    f.require("refreshToken", refresh_token.has_value());
  } else if (grant_type) {
    errors.push_back({"grantType", "one_of", "must be api_key_credentials or refresh_token"});
  }
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());
  if (scope && scope->empty()) scope.reset();  // as POST /v1/token reads an empty scope

  int64_t now_ms = to_micros(rpc.app().clock().now()) / 1000;  // before issuing: expiries never overstated
  auto issued = grant_type == "refresh_token" ? grant_refresh_token(rpc.app(), *refresh_token, scope)
                                              : grant_api_key_credentials(rpc.app(), *key_id, *secret, scope);
  if (!issued) co_return fail(issued.error());
  co_return json::object{{"accessToken", issued->access_token},
                         {"accessTokenExpiry", now_ms + issued->expires_in * 1000},
                         {"refreshToken", issued->refresh_token},
                         {"refreshTokenExpiry", now_ms + issued->refresh_expires_in * 1000},
                         {"tokenType", "Bearer"},
                         {"scope", issued->scope}};
}

// {userId} alone, for user/get and user/delete.
Result<std::string> user_id_param(const json::object& params) {
  JsonFields f(params);
  auto id = f.string("userId");
  f.require("userId", id.has_value());
  if (auto ok = check_params(f); !ok) return fail(ok.error());
  return *id;
}

MethodResult user_create(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("users:write"));
  JsonFields f(params);
  std::vector<FieldError> errors;
  identity::NewUser in = read_new_user(f, errors);
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(user, co_await create_user_as(rpc.app(), caller, in));  // validates the values: 422 validation_failed
  co_return user_json(user);
}

MethodResult user_get(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("users:read"));
  CO_TRY(id, user_id_param(params));
  CO_TRY(user, rpc.app().user_admin().get(caller.project->id, id));
  co_return user_json(user);
}

// "sort=<spec>" through the REST query parser, which owns the sort grammar.
Result<std::vector<identity::SortKey>> parse_sort(std::string_view spec) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string query = "sort=";
  for (unsigned char c : spec) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ',') {
      query += static_cast<char>(c);
    } else {
      query += '%';
      query += kHex[c >> 4];
      query += kHex[c & 15];
    }
  }
  auto parsed = identity::parse_user_query(query);
  if (!parsed) return fail(std::move(parsed.error()));
  return std::move(parsed->sort);
}

MethodResult user_list(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("users:read"));
  JsonFields f(params);
  auto filter = f.object("filter");
  auto sort = f.string("sort");
  auto cursor = f.nullable_string("cursor");
  auto limit = f.any("limit");
  std::vector<FieldError> errors;
  if (limit && !limit->is_int64() && !limit->is_uint64()) errors.push_back({"limit", "type", "must be a whole number"});
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());

  identity::UserQuery query;
  if (filter) {
    CO_TRY(where, identity::parse_user_filter(*filter));
    query.where = std::move(where);
  }
  if (sort) {
    CO_TRY(keys, parse_sort(*sort));
    query.sort = std::move(keys);
  }
  if (cursor && *cursor && !(*cursor)->empty()) {  // an empty or null cursor is the first page
    CO_TRY(after, identity::decode_cursor(**cursor, query.sort));
    query.after = std::move(after);
  }
  if (limit) {
    int64_t n = limit->is_int64() ? limit->get_int64() : std::numeric_limits<int64_t>::max();
    if (n < 1 || n > static_cast<int64_t>(identity::kMaxUserListLimit))
      co_return fail(Error::validation({{"limit", "range", "must be a whole number from 1 to 1000"}}));
    query.limit = static_cast<size_t>(n);
  }
  const std::string& project_id = caller.project->id;
  CO_TRY(page, co_await rpc.app().querying(
                   [&] { return Result<identity::UserPage>(rpc.app().user_admin().list(project_id, query)); }));
  json::array items;
  for (const auto& u : page.items) items.push_back(user_json(u));
  json::value next = nullptr;
  if (page.next) next = identity::encode_cursor(*page.next);
  co_return json::object{{"items", std::move(items)}, {"nextCursor", std::move(next)}};
}

MethodResult user_update(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("users:write"));
  JsonFields f(params);
  auto id = f.string("userId");
  f.require("userId", id.has_value());
  std::vector<FieldError> errors;
  UserUpdate update = read_user_update(f, errors);
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(user, update_user_as(rpc.app(), caller, *id, update));
  co_return user_json(user);
}

MethodResult user_delete(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("users:delete"));
  CO_TRY(id, user_id_param(params));
  if (auto ok = rpc.app().user_admin().remove(caller.project->id, id); !ok) co_return fail(ok.error());
  co_return nullptr;  // REST answers 204 No Content
}

// limit (1-1000, default 50) and cursor (a nextCursor, or null/empty for the first page). A mistyped
// limit is a params error (in `errors`); values out of range are application errors, as in REST.
struct RpcPage {
  std::optional<json::value> limit;
  std::optional<std::optional<std::string>> cursor;
};
RpcPage read_rpc_page(JsonFields& f, std::vector<FieldError>& errors) {
  RpcPage page{f.any("limit"), f.nullable_string("cursor")};
  if (page.limit && !page.limit->is_int64()) errors.push_back({"limit", "type", "must be a whole number"});
  return page;
}
Result<PageRequest> to_page(const RpcPage& in) {
  PageRequest page;
  if (in.limit) {
    int64_t n = in.limit->as_int64();
    if (n < 1 || n > 1000) return fail(Error::validation({{"limit", "range", "must be a whole number from 1 to 1000"}}));
    page.limit = static_cast<size_t>(n);
  }
  if (in.cursor && *in.cursor && !(*in.cursor)->empty()) {
    std::string decoded;
    if (!crypto::base64url_decode(**in.cursor, decoded) || decoded.empty())
      return fail(Error::bad_request("invalid_cursor", "The cursor is not one this server returned."));
    page.after = std::move(decoded);
  }
  return page;
}

json::value next_cursor(bool more, const std::string& last) { return more ? json::value(encode_cursor(last)) : json::value(nullptr); }

MethodResult context_create(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("contexts:write"));
  JsonFields f(params);
  auto name = f.string("name");
  auto description = f.string("description").value_or("");
  f.require("name", name.has_value());
  if (auto ok = check_params(f); !ok) co_return fail(ok.error());
  CO_TRY(context, rpc.app().contexts().create(caller.project->id, *name, description));
  co_return json::object{{"contextId", context.id}};
}

MethodResult context_list(Rpc& rpc, const json::object& params) {
  CO_TRY(reader, rpc.context_reader());
  JsonFields f(params);
  std::vector<FieldError> errors;
  auto requested = read_rpc_page(f, errors);
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(page, to_page(requested));
  auto rows = rpc.app().contexts().list(reader.project_id, reader.viewer, page.limit + 1, page.after);
  bool more = rows.size() > page.limit;
  if (more) rows.resize(page.limit);
  json::array items;
  for (auto& c : rows) items.push_back(context_json(c));
  co_return json::object{{"contexts", std::move(items)}, {"nextCursor", next_cursor(more, rows.empty() ? "" : rows.back().id)}};
}

MethodResult context_add_user(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("contexts:write"));
  JsonFields f(params);
  auto context_id = f.string("contextId");
  auto user_id = f.string("userId");
  auto public_key = f.string("userPubKey");
  auto key_type = f.string("keyType").value_or("ed25519");
  f.require("contextId", context_id.has_value());
  f.require("userId", user_id.has_value());
  f.require("userPubKey", public_key.has_value());
  if (auto ok = check_params(f); !ok) co_return fail(ok.error());
  // A key that is not one is a value error (422 validation_failed), as in REST, named as the params are.
  contexts::MemberKey key{*public_key, key_type};
  if (auto errors = contexts::check_member_key(key, "userPubKey", "keyType"); !errors.empty())
    co_return fail(Error::validation(std::move(errors)));
  CO_TRY(put, rpc.app().contexts().put_member(caller.project->id, *context_id, *user_id, key));
  co_return json::object{};
}

MethodResult context_remove_user(Rpc& rpc, const json::object& params) {
  CO_TRY(caller, rpc.caller("contexts:write"));
  JsonFields f(params);
  auto context_id = f.string("contextId");
  auto user_id = f.string("userId");
  f.require("contextId", context_id.has_value());
  f.require("userId", user_id.has_value());
  if (auto ok = check_params(f); !ok) co_return fail(ok.error());
  if (auto ok = rpc.app().contexts().remove_member(caller.project->id, *context_id, *user_id); !ok) co_return fail(ok.error());
  co_return json::object{};
}

MethodResult context_list_users(Rpc& rpc, const json::object& params) {
  CO_TRY(reader, rpc.context_reader());
  JsonFields f(params);
  auto context_id = f.string("contextId");
  f.require("contextId", context_id.has_value());
  std::vector<FieldError> errors;
  auto requested = read_rpc_page(f, errors);
  if (auto ok = check_params(f, std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(page, to_page(requested));
  CO_TRY(rows, rpc.app().contexts().members(reader.project_id, *context_id, reader.viewer, page.limit + 1, page.after));
  bool more = rows.size() > page.limit;
  if (more) rows.resize(page.limit);
  json::array users;
  for (auto& m : rows) users.push_back(json::object{{"userId", m.user_id}, {"pubKey", m.public_key}, {"keyType", m.key_type}});
  co_return json::object{{"users", std::move(users)}, {"nextCursor", next_cursor(more, rows.empty() ? "" : contexts::member_position(rows.back()))}};
}

struct Method {
  std::string_view name;
  MethodResult (*run)(Rpc&, const json::object&);
};
constexpr Method kMethods[] = {
    {"manager/auth", manager_auth},
    {"user/create", user_create},
    {"user/get", user_get},
    {"user/list", user_list},
    {"user/update", user_update},
    {"user/delete", user_delete},
    {"context/create", context_create},
    {"context/list", context_list},
    {"context/addUserToContext", context_add_user},
    {"context/removeUserFromContext", context_remove_user},
    {"context/listUsers", context_list_users},
};

struct Call {
  std::optional<json::value> id;  // none: a notification
  std::string method;
  json::object params;
};

bool valid_id(const json::value& id) { return id.is_string() || id.is_number() || id.is_null(); }

// The id to answer an invalid request with: its own when it has a usable one, else null.
json::value answer_id(const json::value& request) {
  if (const auto* o = request.if_object())
    if (const auto* id = o->if_contains("id"); id && valid_id(*id)) return *id;
  return nullptr;
}

Result<Call> read_call(const json::value& request) {
  const auto* o = request.if_object();
  if (!o) return fail(invalid_request("A request must be a JSON object."));
  Call call;
  for (const auto& [key, value] : *o) {
    if (key == "jsonrpc") {
      if (!value.is_string() || value.get_string() != "2.0")
        return fail(invalid_request("jsonrpc must be \"2.0\".", {{"jsonrpc", "value", "must be \"2.0\""}}));
    } else if (key == "method") {
      if (!value.is_string()) return fail(invalid_request("method must be a string.", {{"method", "type", "must be a string"}}));
      call.method = value.get_string();
    } else if (key == "params") {
      if (!value.is_object())
        return fail(invalid_request("params must be an object of named parameters.",
                                    {{"params", "type", "must be an object of named parameters"}}));
      call.params = value.get_object();
    } else if (key == "id") {
      if (!valid_id(value))
        return fail(invalid_request("id must be a string, a number or null.", {{"id", "type", "must be a string, a number or null"}}));
      call.id = value;
    } else {
      return fail(invalid_request("Unknown request member: " + std::string(key) + ".",
                                  {{std::string(key), "unknown_field", "is not a member of a JSON-RPC request"}}));
    }
  }
  if (!o->contains("jsonrpc")) return fail(invalid_request("jsonrpc must be \"2.0\".", {{"jsonrpc", "required", "is required"}}));
  if (!o->contains("method")) return fail(invalid_request("method is required.", {{"method", "required", "is required"}}));
  return call;
}

MethodResult invoke(Rpc& rpc, const Call& call) {
  for (const Method& m : kMethods) {
    if (m.name != call.method) continue;
    try {
      co_return co_await m.run(rpc, call.params);
    } catch (const store::StoreFailure& e) {
      co_return fail(Error::internal_error(e.what()));
    } catch (const std::exception& e) {
      co_return fail(Error::internal_error(std::string("unhandled: ") + e.what()));
    }
  }
  co_return fail(Error::not_found("method_not_found", "No method is named '" + call.method + "'."));
}

// One request's answer; nullopt for a notification.
boost::asio::awaitable<std::optional<json::object>> answer(Rpc& rpc, const json::value& request, std::string_view request_id) {
  auto call = read_call(request);
  if (!call) co_return error_response(answer_id(request), call.error(), request_id);
  auto result = co_await invoke(rpc, *call);
  std::optional<json::object> out;
  if (!result) out = error_response(call->id.value_or(nullptr), result.error(), request_id);  // logs a 5xx cause
  else out = json::object{{"jsonrpc", "2.0"}, {"result", std::move(*result)}, {"id", call->id.value_or(nullptr)}};
  if (!call->id) co_return std::nullopt;
  co_return out;
}

http::Response rpc_response(const json::value& body) {
  auto res = http::json_response(beast_http::status::ok, body);
  res.set(beast_http::field::cache_control, "no-store");  // manager/auth answers carry tokens
  return res;
}

HandlerResult rpc(App& app, RequestContext& ctx) {
  auto body = parse_json_value(ctx.request);
  if (!body && body.error().code != "malformed_json") co_return fail(body.error());  // 415: not JSON-RPC at all
  if (!body) co_return rpc_response(error_response(nullptr, body.error(), ctx.request_id));
  Rpc rpc(app, ctx);
  if (!body->is_array()) {
    auto one = co_await answer(rpc, *body, ctx.request_id);
    if (!one) co_return http::empty_response(beast_http::status::no_content);
    co_return rpc_response(*one);
  }
  const json::array& batch = body->get_array();
  if (batch.empty()) co_return rpc_response(error_response(nullptr, invalid_request("A batch must not be empty."), ctx.request_id));
  if (batch.size() > kMaxBatch)
    co_return rpc_response(error_response(
        nullptr, invalid_request("A batch holds at most " + std::to_string(kMaxBatch) + " requests."), ctx.request_id));
  json::array answers;
  for (const json::value& request : batch)  // in order: a call may use what an earlier one made
    if (auto one = co_await answer(rpc, request, ctx.request_id)) answers.push_back(std::move(*one));
  if (answers.empty()) co_return http::empty_response(beast_http::status::no_content);
  co_return rpc_response(answers);
}

}  // namespace

void register_rpc_routes(http::Router& router, App& app) {
  router.add(beast_http::verb::post, "/v1/rpc", [&app](RequestContext& ctx) { return rpc(app, ctx); });
}

}  // namespace tessera::api
