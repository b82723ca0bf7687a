#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <toml++/toml.h>

#include <boost/json.hpp>
#include <vector>

namespace tessera {

std::optional<Micros> parse_duration(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  uint64_t factor;
  if (unit == "ms") factor = 1000;
  else if (unit == "s") factor = 1000000;
  else if (unit == "m") factor = 60ull * 1000000;
  else if (unit == "h") factor = 3600ull * 1000000;
  else if (unit == "d") factor = 86400ull * 1000000;
  else return std::nullopt;
  if (n > (1ull << 62) / factor) return std::nullopt;
  return Micros(static_cast<int64_t>(n * factor));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  uint64_t factor;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "KiB") factor = 1024;
  else if (unit == "MiB") factor = 1024 * 1024;
  else return std::nullopt;
  if (n > (1ull << 40) / factor) return std::nullopt;
  return n * factor;
}

namespace {

// One configuration key: where it lives and how to set it from text.
struct Key {
  std::string_view section;
  std::string_view name;
  std::string rule;  // shown when a value is refused
  std::function<bool(Config&, std::string_view)> set;
  bool environment_only = false;  // secrets: never read from the file
};

bool set_uint(uint64_t& out, std::string_view v, uint64_t min, uint64_t max) {
  uint64_t n;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) return false;
  out = n;
  return true;
}
template <class Field>
Key uint_key(std::string_view s, std::string_view n, Field field, uint64_t min, uint64_t max) {
  std::string rule = "a whole number in range";
  return Key{s, n, rule, [=](Config& c, std::string_view v) {
               uint64_t x;
               if (!set_uint(x, v, min, max)) return false;
               field(c) = static_cast<std::remove_reference_t<decltype(field(c))>>(x);
               return true;
             }};
}
template <class Field>
Key duration_key(std::string_view s, std::string_view n, Field field, Micros min = std::chrono::seconds(1)) {
  std::string rule = min == Micros(0)                ? "a duration such as 0s, 500ms, 90s or 15m"
                     : min < std::chrono::seconds(1) ? "a duration such as 500ms, 90s, 15m or 2h (at least 100ms)"
                                                     : "a duration such as 90s, 15m, 2h or 30d (at least 1s)";
  return Key{s, n, rule, [=](Config& c, std::string_view v) {
               auto d = parse_duration(v);
               if (!d || *d < min) return false;
               field(c) = *d;
               return true;
             }};
}
template <class Field>
Key size_key(std::string_view s, std::string_view n, Field field) {
  return Key{s, n, "a size such as 1048576, 512KiB or 1MiB (at least 1KiB)", [=](Config& c, std::string_view v) {
               auto x = parse_size(v);
               if (!x || *x < 1024) return false;
               field(c) = *x;
               return true;
             }};
}
template <class Field>
Key string_key(std::string_view s, std::string_view n, Field field, std::vector<std::string_view> allowed = {}) {
  return Key{s, n, "one of the documented values", [=](Config& c, std::string_view v) {
               if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) return false;
               field(c) = std::string(v);
               return true;
             }};
}
template <class Field>
Key bool_key(std::string_view s, std::string_view n, Field field) {
  return Key{s, n, "true or false", [=](Config& c, std::string_view v) {
               if (v != "true" && v != "false") return false;
               field(c) = v == "true";
               return true;
             }};
}

Key secret(Key k) {
  k.environment_only = true;
  return k;
}

const std::vector<Key>& keys() {
  static const std::vector<Key> all = {
      string_key("server", "listen", [](Config& c) -> auto& { return c.server.listen; }),
      uint_key("server", "threads", [](Config& c) -> auto& { return c.server.threads; }, 0, 256),
      string_key("server", "public_url", [](Config& c) -> auto& { return c.server.public_url; }),
      size_key("server", "body_limit", [](Config& c) -> auto& { return c.server.body_limit; }),
      size_key("server", "header_limit", [](Config& c) -> auto& { return c.server.header_limit; }),
      duration_key("server", "read_timeout", [](Config& c) -> auto& { return c.server.read_timeout; }),
      duration_key("server", "idle_timeout", [](Config& c) -> auto& { return c.server.idle_timeout; }),
      duration_key("server", "write_timeout", [](Config& c) -> auto& { return c.server.write_timeout; }),
      duration_key("server", "shutdown_grace", [](Config& c) -> auto& { return c.server.shutdown_grace; }),
      uint_key("server", "max_connections", [](Config& c) -> auto& { return c.server.max_connections; }, 1, 1000000),
      secret(string_key("server", "secret_key", [](Config& c) -> auto& { return c.server.secret_key; })),
      string_key("server", "secret_key_file", [](Config& c) -> auto& { return c.server.secret_key_file; }),
      string_key("store", "url", [](Config& c) -> auto& { return c.store.url; }),
      uint_key("store", "pool_size", [](Config& c) -> auto& { return c.store.pool_size; }, 1, 1000),
      string_key("store", "data_dir", [](Config& c) -> auto& { return c.store.data_dir; }),
      string_key("store", "synchronous", [](Config& c) -> auto& { return c.store.synchronous; }, {"normal", "full"}),
      duration_key("session", "idle_timeout", [](Config& c) -> auto& { return c.session.idle_timeout; }),
      duration_key("session", "lifetime", [](Config& c) -> auto& { return c.session.lifetime; }),
      uint_key("session", "cache_size", [](Config& c) -> auto& { return c.session.cache_size; }, 0, 100000000),
      uint_key("password", "memory_kib", [](Config& c) -> auto& { return c.password.memory_kib; }, 8, 4u << 20),
      uint_key("password", "iterations", [](Config& c) -> auto& { return c.password.iterations; }, 1, 100),
      uint_key("password", "workers", [](Config& c) -> auto& { return c.password.workers; }, 0, 256),
      uint_key("password", "queue_limit", [](Config& c) -> auto& { return c.password.queue_limit; }, 0, 1000000),
      string_key("token", "issuer", [](Config& c) -> auto& { return c.token.issuer; }),
      string_key("token", "audience", [](Config& c) -> auto& { return c.token.audience; }),
      duration_key("token", "access_ttl", [](Config& c) -> auto& { return c.token.access_ttl; }),
      duration_key("token", "refresh_ttl", [](Config& c) -> auto& { return c.token.refresh_ttl; }),
      duration_key("token", "refresh_reuse_grace", [](Config& c) -> auto& { return c.token.refresh_reuse_grace; }),
      duration_key("token", "personal_token_max_ttl", [](Config& c) -> auto& { return c.token.personal_token_max_ttl; }),
      string_key("mail", "mode", [](Config& c) -> auto& { return c.mail.mode; }, {"log", "smtp"}),
      string_key("mail", "from", [](Config& c) -> auto& { return c.mail.from; }),
      string_key("mail", "smtp_host", [](Config& c) -> auto& { return c.mail.smtp_host; }),
      uint_key("mail", "smtp_port", [](Config& c) -> auto& { return c.mail.smtp_port; }, 1, 65535),
      string_key("mail", "smtp_tls", [](Config& c) -> auto& { return c.mail.smtp_tls; }, {"starttls", "implicit", "none"}),
      string_key("mail", "smtp_username", [](Config& c) -> auto& { return c.mail.smtp_username; }),
      secret(string_key("mail", "smtp_password", [](Config& c) -> auto& { return c.mail.smtp_password; })),
      string_key("mail", "smtp_password_file", [](Config& c) -> auto& { return c.mail.smtp_password_file; }),
      string_key("mail", "smtp_ca_file", [](Config& c) -> auto& { return c.mail.smtp_ca_file; }),
      duration_key("mail", "timeout", [](Config& c) -> auto& { return c.mail.timeout; }),
      uint_key("events", "workers", [](Config& c) -> auto& { return c.events.workers; }, 1, 64),
      duration_key("events", "retry_base", [](Config& c) -> auto& { return c.events.retry_base; }, std::chrono::milliseconds(100)),
      duration_key("events", "retry_max", [](Config& c) -> auto& { return c.events.retry_max; }),
      uint_key("events", "max_attempts", [](Config& c) -> auto& { return c.events.max_attempts; }, 1, 100),
      duration_key("events", "webhook_timeout", [](Config& c) -> auto& { return c.events.webhook_timeout; }),
      bool_key("events", "webhook_allow_private", [](Config& c) -> auto& { return c.events.webhook_allow_private; }),
      duration_key("events", "retention", [](Config& c) -> auto& { return c.events.retention; }),
      duration_key("account", "password_reset_ttl", [](Config& c) -> auto& { return c.account.password_reset_ttl; }),
      duration_key("account", "email_verification_ttl", [](Config& c) -> auto& { return c.account.email_verification_ttl; }),
      uint_key("account", "requests_per_email", [](Config& c) -> auto& { return c.account.requests_per_email; }, 1, 1000000),
      uint_key("account", "requests_per_ip", [](Config& c) -> auto& { return c.account.requests_per_ip; }, 1, 1000000),
      duration_key("account", "request_window", [](Config& c) -> auto& { return c.account.request_window; }),
      bool_key("external", "allow_private", [](Config& c) -> auto& { return c.external.allow_private; }),
      duration_key("external", "http_timeout", [](Config& c) -> auto& { return c.external.http_timeout; }, std::chrono::milliseconds(100)),
      uint_key("external", "workers", [](Config& c) -> auto& { return c.external.workers; }, 1, 256),
      duration_key("external", "flow_ttl", [](Config& c) -> auto& { return c.external.flow_ttl; }),
      duration_key("external", "jwks_cache_ttl", [](Config& c) -> auto& { return c.external.jwks_cache_ttl; }),
      duration_key("external", "jwks_refresh_interval", [](Config& c) -> auto& { return c.external.jwks_refresh_interval; }, Micros(0)),
      duration_key("external", "clock_skew", [](Config& c) -> auto& { return c.external.clock_skew; }, Micros(0)),
      duration_key("licenses", "activation_token_ttl", [](Config& c) -> auto& { return c.licenses.activation_token_ttl; }),
      string_key("log", "level", [](Config& c) -> auto& { return c.log.level; }, {"debug", "info", "warn", "error"}),
      bool_key("log", "requests", [](Config& c) -> auto& { return c.log.requests; }),
  };
  return all;
}

Error config_error(std::string_view where, const Key* key, std::string_view value) {
  std::string msg = std::string(where);
  if (key) msg += ": " + std::string(value) + " is not " + std::string(key->rule);
  else msg += " is not a known configuration key";
  return Error::make(400, "invalid_config", msg);
}

std::string env_name(const Key& k) {
  std::string name = "TESSERA_";
  for (char c : std::string(k.section) + "_" + std::string(k.name)) name.push_back(static_cast<char>(std::toupper(c)));
  return name;
}

// TOML values arrive typed; the setters take text so the file and the environment share one parser.
std::optional<std::string> toml_text(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  return std::nullopt;
}

// [providers.<name>] tables keep their TOML shape as JSON, so the API's validation reads them.
boost::json::value toml_to_json(const toml::node& node) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return boost::json::string(*s);
  if (node.is_integer()) return *node.value<int64_t>();
  if (node.is_floating_point()) return *node.value<double>();
  if (node.is_boolean()) return *node.value<bool>();
  if (auto* array = node.as_array()) {
    boost::json::array out;
    for (auto& item : *array) out.push_back(toml_to_json(item));
    return out;
  }
  if (auto* table = node.as_table()) {
    boost::json::object out;
    for (auto& [k, v] : *table) out[std::string(k.str())] = toml_to_json(v);
    return out;
  }
  return nullptr;  // dates and times: refused by the provider's validation
}

Status read_providers(const toml::table& table, Config& config) {
  for (auto& [name, node] : table) {
    auto* fields = node.as_table();
    if (!fields)
      return fail(Error::make(400, "invalid_config", "providers." + std::string(name.str()) + " must be a table"));
    config.providers.push_back({std::string(name.str()), toml_to_json(*fields).as_object()});
  }
  return {};
}

}  // namespace

Result<Config> load_config(const std::optional<std::string>& path) {
  Config config;
  if (path) {
    toml::table table;
    try {
      table = toml::parse_file(*path);
    } catch (const toml::parse_error& e) {
      return fail(Error::make(400, "invalid_config", std::string(*path) + ": " + std::string(e.description())));
    }
    for (auto& [section, node] : table) {
      auto* inner = node.as_table();
      if (!inner) return fail(config_error("[" + std::string(section.str()) + "]", nullptr, ""));
      if (section.str() == "providers") {
        if (auto ok = read_providers(*inner, config); !ok) return fail(ok.error());
        continue;
      }
      for (auto& [name, value] : *inner) {
        std::string where = std::string(section.str()) + "." + std::string(name.str());
        auto it = std::find_if(keys().begin(), keys().end(),
                               [&](const Key& k) { return k.section == section.str() && k.name == name.str(); });
        if (it == keys().end()) return fail(config_error(where, nullptr, ""));
        if (it->environment_only)
          return fail(Error::make(400, "invalid_config", where + " is a secret: set it with " + env_name(*it) +
                                                             " or a *_file key, never in the file"));
        auto text = toml_text(value);
        if (!text || !it->set(config, *text)) return fail(config_error(where, &*it, text.value_or("this value")));
      }
    }
  }
  for (const Key& k : keys()) {
    std::string name = env_name(k);
    if (const char* v = std::getenv(name.c_str()); v != nullptr) {
      if (!k.set(config, v)) return fail(config_error(name, &k, v));
    }
  }
  if (config.mail.smtp_password.empty() && !config.mail.smtp_password_file.empty()) {
    std::ifstream in(config.mail.smtp_password_file);
    if (!in) return fail(Error::make(400, "invalid_config", "mail.smtp_password_file: cannot read " + config.mail.smtp_password_file));
    std::getline(in, config.mail.smtp_password);
  }
  return config;
}

}  // namespace tessera
