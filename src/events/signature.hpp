// The Tessera-Signature header of a webhook POST: the receiver recomputes it with the webhook's secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::events {

// "t=<unix_seconds>,v1=<lower-hex HMAC-SHA256(secret, "<unix_seconds>.<body>")>". The timestamp is
// signed too, so a receiver that refuses old values of t also refuses replays of old deliveries.
std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

}  // namespace tessera::events
