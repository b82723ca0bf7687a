#include "http/problem.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"

namespace tessera::http {

Response problem_response(const Error& e, std::string_view request_id) {
  boost::json::object body;
  body["type"] = "https://tessera.dev/errors/" + e.code;
  body["title"] = std::string(beast_http::obsolete_reason(static_cast<beast_http::status>(e.status)));
  body["status"] = e.status;
  body["code"] = e.code;
  body["detail"] = e.message;
  if (!e.fields.empty()) {
    boost::json::array errors;
    for (auto& f : e.fields) errors.push_back({{"field", f.field}, {"code", f.code}, {"detail", f.detail}});
    body["errors"] = std::move(errors);
  }
  if (!e.missing_permission.empty()) body["missing_permission"] = e.missing_permission;
  if (e.oauth) {  // RFC 6749 section 5.2, for OAuth client libraries
    body["error"] = e.code;
    body["error_description"] = e.message;
  }
  if (e.status >= 500) {
    body["request_id"] = request_id;
    if (!e.internal.empty()) log::error("request failed", {{"request_id", request_id}, {"code", e.code}, {"internal", e.internal}});
  } else if (!e.internal.empty() && e.status != 405) {  // the precise reason of a refusal (an ID token's failed check)
    log::info("request refused", {{"request_id", request_id}, {"code", e.code}, {"internal", e.internal}});
  }
  Response res = text_response(static_cast<beast_http::status>(e.status), boost::json::serialize(body),
                               "application/problem+json");
  if (e.retry_after_seconds > 0) res.set(beast_http::field::retry_after, std::to_string(e.retry_after_seconds));
  if (!e.www_authenticate.empty()) res.set(beast_http::field::www_authenticate, e.www_authenticate);
  return res;
}

}  // namespace tessera::http
