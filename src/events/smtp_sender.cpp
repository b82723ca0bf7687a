#include "events/smtp_sender.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "events/mail_message.hpp"
#include "events/webhook_sender.hpp"

namespace tessera::events {

namespace {

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using ListPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

struct Upload {
  std::string_view rest;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* userdata) {
  auto* upload = static_cast<Upload*>(userdata);
  size_t n = std::min(size * count, upload->rest.size());
  std::memcpy(buffer, upload->rest.data(), n);
  upload->rest.remove_prefix(n);
  return n;
}

// An IPv6 literal needs brackets in a URL ("smtp://[::1]:25").
std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos && !host.starts_with('[') ? "[" + host + "]" : host;
}

}  // namespace

SmtpSender::SmtpSender(const MailConfig& config)
    : config_(config),
      url_((config.smtp_tls == "implicit" ? "smtps://" : "smtp://") + url_host(config.smtp_host) + ":" +
           std::to_string(config.smtp_port)) {}

std::optional<std::string> SmtpSender::send(const std::string& from_address, const std::string& to_address,
                                            const std::string& message) const {
  // The addresses go into MAIL FROM / RCPT TO commands: a CR or LF there would inject SMTP commands.
  if (mail_address(from_address) != from_address) return "invalid sender address";
  if (mail_address(to_address) != to_address) return "invalid recipient address";
  if (config_.smtp_tls != "starttls" && config_.smtp_tls != "implicit" && config_.smtp_tls != "none")
    return "unknown smtp_tls \"" + config_.smtp_tls + "\"";

  init_curl();
  CurlPtr curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return "curl_easy_init failed";
  std::string from = "<" + from_address + ">";
  ListPtr recipients(curl_slist_append(nullptr, ("<" + to_address + ">").c_str()), &curl_slist_free_all);
  Upload upload{message};
  char error[CURL_ERROR_SIZE] = "";
  long timeout_ms = curl_timeout_ms(config_.timeout);

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  // STARTTLS is required, not opportunistic: a relay (or a man in the middle) that does not offer it
  // gets nothing, rather than the mail and the password in clear.
  curl_easy_setopt(h, CURLOPT_USE_SSL, config_.smtp_tls == "none" ? CURLUSESSL_NONE : CURLUSESSL_ALL);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config_.smtp_ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.smtp_ca_file.c_str());
  if (!config_.smtp_username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, config_.smtp_username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, config_.smtp_password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  CURLcode code = curl_easy_perform(h);
  if (code == CURLE_OK) return std::nullopt;
  std::string text = error[0] != '\0' ? error : curl_easy_strerror(code);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  if (reply != 0) text += " (SMTP " + std::to_string(reply) + ")";
  // curl's messages do not quote credentials, but this text ends up in a table and an API answer.
  const std::string& password = config_.smtp_password;
  for (size_t at = 0; !password.empty() && (at = text.find(password, at)) != std::string::npos; at += 3)
    text.replace(at, password.size(), "***");
  return text;
}

}  // namespace tessera::events
