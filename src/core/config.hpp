// Configuration: built-in defaults, then tessera.toml, then TESSERA_<SECTION>_<KEY> environment variables.
// Every key is listed once in config.cpp's table and documented in tessera.example.toml.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace tessera {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 0;  // 0: one per core
  std::string public_url;
  uint64_t body_limit = 1 << 20;
  uint64_t header_limit = 16 << 10;
  Micros read_timeout = std::chrono::seconds(30);
  Micros idle_timeout = std::chrono::seconds(60);
  Micros write_timeout = std::chrono::seconds(30);
  Micros shutdown_grace = std::chrono::seconds(10);
  unsigned max_connections = 10000;
  // The server secret key (32 bytes, base64): only from the environment (TESSERA_SERVER_SECRET_KEY) or
  // secret_key_file; when both are empty, <data_dir>/secret.key is used, created at first start.
  std::string secret_key;
  std::string secret_key_file;
};

struct StoreConfig {
  std::string url;  // "postgres://...": PostgreSQL (several nodes); empty: SQLite in data_dir
  unsigned pool_size = 16;  // PostgreSQL connections per node
  std::string data_dir = "./data";
  std::string synchronous = "normal";  // "normal" (WAL: survives process crash) or "full" (also power loss)
};

struct SessionConfig {
  Micros idle_timeout = std::chrono::hours(2);
  Micros lifetime = std::chrono::hours(24 * 30);
  unsigned cache_size = 100000;
};

struct TokenConfig {
  std::string issuer;                 // empty: public_url, or "tessera"
  std::string audience = "tessera";
  Micros access_ttl = std::chrono::minutes(15);
  Micros refresh_ttl = std::chrono::hours(24 * 30);
  Micros refresh_reuse_grace = std::chrono::seconds(10);
  Micros personal_token_max_ttl = std::chrono::hours(24 * 365);
};

struct PasswordConfig {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  unsigned workers = 0;  // 0: one per core
  unsigned queue_limit = 64;
};

struct MailConfig {
  std::string mode = "log";  // "log": each mail goes to the log and <data_dir>/mail/; "smtp": sent
  std::string from = "Tessera <no-reply@localhost>";
  std::string smtp_host = "127.0.0.1";
  unsigned smtp_port = 587;
  std::string smtp_tls = "starttls";  // "starttls" (required), "implicit" (SMTPS) or "none"
  std::string smtp_username;
  std::string smtp_password;       // only from the environment (TESSERA_MAIL_SMTP_PASSWORD) or smtp_password_file
  std::string smtp_password_file;
  std::string smtp_ca_file;        // the CA bundle to trust instead of the system one (a private relay)
  Micros timeout = std::chrono::seconds(30);
};

struct EventsConfig {
  unsigned workers = 4;                              // delivery threads (each holds one delivery at a time)
  Micros retry_base = std::chrono::seconds(10);      // first retry delay; doubles with each attempt
  Micros retry_max = std::chrono::hours(1);          // longest delay between attempts
  unsigned max_attempts = 15;                        // then a delivery is marked failed
  Micros webhook_timeout = std::chrono::seconds(10);
  bool webhook_allow_private = false;                // allow webhook targets on loopback/private networks
  Micros retention = std::chrono::hours(24 * 7);     // finished deliveries are kept this long
};

struct AccountConfig {
  Micros password_reset_ttl = std::chrono::hours(1);
  Micros email_verification_ttl = std::chrono::hours(24);
  unsigned requests_per_email = 5;  // reset and verification mails per email address per window
  unsigned requests_per_ip = 30;    // reset requests per client address per window
  Micros request_window = std::chrono::hours(1);
};

struct ExternalConfig {
  bool allow_private = false;  // provider URLs on loopback/private networks and over http (development, tests)
  Micros http_timeout = std::chrono::seconds(10);
  unsigned workers = 8;        // threads making outgoing calls to providers
  Micros flow_ttl = std::chrono::minutes(10);
  Micros jwks_cache_ttl = std::chrono::hours(1);
  Micros jwks_refresh_interval = std::chrono::seconds(10);
  Micros clock_skew = std::chrono::seconds(60);
};

struct LicensesConfig {
  Micros activation_token_ttl = std::chrono::hours(24 * 7);  // a program activates again before this
};

// A [providers.<name>] table of the file: its fields as JSON, validated like a POST /v1/providers body.
struct ConfigProvider {
  std::string name;
  boost::json::object fields;
};

struct LogConfig {
  std::string level = "info";
  bool requests = true;
};

struct Config {
  ServerConfig server;
  StoreConfig store;
  SessionConfig session;
  PasswordConfig password;
  TokenConfig token;
  MailConfig mail;
  EventsConfig events;
  AccountConfig account;
  ExternalConfig external;
  LicensesConfig licenses;
  std::vector<ConfigProvider> providers;
  LogConfig log;
};

// Reads `path` if given (it must exist), then applies the environment. Errors name the key and the rule.
Result<Config> load_config(const std::optional<std::string>& path);

// "90s", "15m", "2h", "30d", "500ms"
std::optional<Micros> parse_duration(std::string_view text);
// "1048576", "512KiB", "1MiB"
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace tessera
