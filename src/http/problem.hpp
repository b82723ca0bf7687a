// The one place where an Error becomes an HTTP answer: RFC 9457 problem+json.
#pragma once

#include "core/error.hpp"
#include "http/message.hpp"

namespace tessera::http {

// Logs the internal detail of 5xx errors (with the request id) and never sends it.
Response problem_response(const Error& error, std::string_view request_id);

}  // namespace tessera::http
