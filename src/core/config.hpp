// Configuration: built-in defaults, then tessera.toml, then TESSERA_<SECTION>_<KEY> environment variables.
// Every key is listed once in config.cpp's table and documented in tessera.example.toml.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
};

struct StoreConfig {
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
  LogConfig log;
};

// Reads `path` if given (it must exist), then applies the environment. Errors name the key and the rule.
Result<Config> load_config(const std::optional<std::string>& path);

// "90s", "15m", "2h", "30d", "500ms"
std::optional<Micros> parse_duration(std::string_view text);
// "1048576", "512KiB", "1MiB"
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace tessera
