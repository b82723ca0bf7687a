// The one error type of Tessera: services return it, the HTTP layer serializes it in one place.
#pragma once

#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

// One offending input field: `field` names it (dotted path), `code` is the broken rule.
struct FieldError {
  std::string field;
  std::string code;
  std::string detail;
};

struct Error {
  std::string code;      // stable machine code from docs/errors.md, e.g. "invalid_credentials"
  int status = 500;      // HTTP status
  std::string message;   // public, human sentence
  std::vector<FieldError> fields;
  std::string internal;  // logged, never sent
  // Optional extras that some errors carry into the problem body / headers.
  std::string missing_permission;
  int retry_after_seconds = 0;
  std::string www_authenticate;  // sent as the WWW-Authenticate header of a 401
  bool oauth = false;            // an OAuth 2.0 endpoint error: also sent as "error"/"error_description"

  static Error make(int status, std::string code, std::string message) {
    Error e;
    e.status = status;
    e.code = std::move(code);
    e.message = std::move(message);
    return e;
  }
  static Error internal_error(std::string internal_detail) {
    Error e = make(500, "internal_error", "The server could not complete the request.");
    e.internal = std::move(internal_detail);
    return e;
  }
  static Error validation(std::vector<FieldError> fields) {
    Error e = make(422, "validation_failed", "The request has invalid fields.");
    e.fields = std::move(fields);
    return e;
  }
  static Error bad_request(std::string code, std::string message) { return make(400, std::move(code), std::move(message)); }
  static Error not_found(std::string code, std::string message) { return make(404, std::move(code), std::move(message)); }
  // A rejected token (RFC 6750): WWW-Authenticate: Bearer error="invalid_token".
  static Error unauthorized(std::string code, std::string message) {
    Error e = make(401, std::move(code), std::move(message));
    e.www_authenticate = "Bearer error=\"invalid_token\"";
    return e;
  }
  static Error forbidden(std::string code, std::string message) { return make(403, std::move(code), std::move(message)); }
  static Error conflict(std::string code, std::string message) { return make(409, std::move(code), std::move(message)); }
  static Error unavailable(std::string code, std::string message, int retry_after) {
    Error e = make(503, std::move(code), std::move(message));
    e.retry_after_seconds = retry_after;
    return e;
  }
};

template <class T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }

}  // namespace tessera
