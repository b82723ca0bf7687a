// Sends a built message (mail_message.hpp) to the configured SMTP relay through libcurl.
#pragma once

#include <optional>
#include <string>

#include "core/config.hpp"

namespace tessera::events {

class SmtpSender {
 public:
  explicit SmtpSender(const MailConfig& config);

  // Sends one message (the output of build_mail) to one recipient. nullopt on success, else a short
  // error for the delivery log (never the password). Blocking; thread-safe (one CURL handle per call).
  std::optional<std::string> send(const std::string& from_address, const std::string& to_address,
                                  const std::string& message) const;

 private:
  MailConfig config_;
  std::string url_;  // smtp://host:port or smtps://host:port
};

}  // namespace tessera::events
