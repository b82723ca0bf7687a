// core/config: duration and size parsing, the TOML file, and TESSERA_<SECTION>_<KEY> overrides.
#include "core/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace tessera {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("90s"), Micros(90s));
  EXPECT_EQ(parse_duration("15m"), Micros(15min));
  EXPECT_EQ(parse_duration("2h"), Micros(2h));
  EXPECT_EQ(parse_duration("30d"), Micros(24h * 30));
  EXPECT_EQ(parse_duration("500ms"), Micros(500ms));
  EXPECT_EQ(parse_duration("0s"), Micros(0));
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"", "s", "90", "90x", "90 s", " 90s", "90s ", "-5s", "+5s", "1.5h", "5S", "10sec",
                           "2hours", "1h30m", "ms"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_EQ(parse_duration("99999999999999999999d"), std::nullopt);  // does not fit 64 bits
  EXPECT_EQ(parse_duration("999999999999d"), std::nullopt);          // fits, but not once scaled to µs
}

TEST(ParseSize, AcceptsBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("100B"), 100u);
  EXPECT_EQ(parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
}

TEST(ParseSize, RejectsMalformedTextAndOverflow) {
  for (const char* text : {"", "KiB", "1kb", "1KB", "1 MiB", "1.5MiB", "-1", "1GiB", "12x"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_size("2000000MiB"), std::nullopt);
}

// Every test starts without any TESSERA_* variable and leaves the environment as it found it.
class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      if (!entry.starts_with("TESSERA_")) continue;
      size_t eq = entry.find('=');
      saved_.emplace_back(entry.substr(0, eq), eq == std::string::npos ? "" : entry.substr(eq + 1));
    }
    for (auto& [name, value] : saved_) unsetenv(name.c_str());

    std::string tmpl = (std::filesystem::temp_directory_path() / "tessera-config-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }

  void TearDown() override {
    for (auto& name : set_) unsetenv(name.c_str());
    for (auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void set_env(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }

  std::string write_toml(const std::string& text) {
    auto path = dir_ / "tessera.toml";
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::string> set_;
};

TEST_F(LoadConfigTest, NoFileGivesTheDefaults) {
  auto config = load_config(std::nullopt);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->server.body_limit, 1u << 20);
  EXPECT_EQ(config->session.idle_timeout, Micros(2h));
  EXPECT_EQ(config->session.lifetime, Micros(24h * 30));
  EXPECT_EQ(config->store.synchronous, "normal");
  EXPECT_EQ(config->password.memory_kib, 19456u);
  EXPECT_EQ(config->password.iterations, 2u);
  EXPECT_EQ(config->log.level, "info");
  EXPECT_TRUE(config->log.requests);
}

TEST_F(LoadConfigTest, ReadsEveryKindOfValueFromTheFile) {
  auto path = write_toml(R"(
[server]
listen = "0.0.0.0:9000"
threads = 4
body_limit = "2MiB"
header_limit = 4096
read_timeout = "15s"

[store]
data_dir = "/var/lib/tessera"
synchronous = "full"

[session]
idle_timeout = "30m"
lifetime = "7d"
cache_size = 10

[password]
memory_kib = 8192
iterations = 3

[log]
level = "warn"
requests = false
)");
  auto config = load_config(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.listen, "0.0.0.0:9000");
  EXPECT_EQ(config->server.threads, 4u);
  EXPECT_EQ(config->server.body_limit, 2u * 1024 * 1024);
  EXPECT_EQ(config->server.header_limit, 4096u);
  EXPECT_EQ(config->server.read_timeout, Micros(15s));
  EXPECT_EQ(config->server.idle_timeout, Micros(60s));  // untouched keys keep their defaults
  EXPECT_EQ(config->store.data_dir, "/var/lib/tessera");
  EXPECT_EQ(config->store.synchronous, "full");
  EXPECT_EQ(config->session.idle_timeout, Micros(30min));
  EXPECT_EQ(config->session.lifetime, Micros(24h * 7));
  EXPECT_EQ(config->session.cache_size, 10u);
  EXPECT_EQ(config->password.memory_kib, 8192u);
  EXPECT_EQ(config->password.iterations, 3u);
  EXPECT_EQ(config->log.level, "warn");
  EXPECT_FALSE(config->log.requests);
}

TEST_F(LoadConfigTest, EnvironmentWinsOverTheFile) {
  auto path = write_toml(R"(
[server]
listen = "0.0.0.0:9000"
[session]
idle_timeout = "30m"
[log]
requests = true
)");
  set_env("TESSERA_SESSION_IDLE_TIMEOUT", "45m");
  set_env("TESSERA_SERVER_LISTEN", "127.0.0.1:7000");
  set_env("TESSERA_LOG_REQUESTS", "false");
  set_env("TESSERA_PASSWORD_ITERATIONS", "5");
  auto config = load_config(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->session.idle_timeout, Micros(45min));
  EXPECT_EQ(config->server.listen, "127.0.0.1:7000");
  EXPECT_FALSE(config->log.requests);
  EXPECT_EQ(config->password.iterations, 5u);  // not in the file at all
}

TEST_F(LoadConfigTest, EnvironmentAppliesWithoutAFile) {
  set_env("TESSERA_SERVER_BODY_LIMIT", "64KiB");
  auto config = load_config(std::nullopt);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.body_limit, 64u * 1024);
}

TEST_F(LoadConfigTest, BadEnvironmentValueNamesTheVariable) {
  set_env("TESSERA_SERVER_THREADS", "many");
  auto config = load_config(std::nullopt);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "invalid_config");
  EXPECT_NE(config.error().message.find("TESSERA_SERVER_THREADS"), std::string::npos) << config.error().message;
  EXPECT_NE(config.error().message.find("many"), std::string::npos) << config.error().message;
}

TEST_F(LoadConfigTest, UnknownKeyIsNamed) {
  auto config = load_config(write_toml("[server]\ncolour = \"blue\"\n"));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "invalid_config");
  EXPECT_NE(config.error().message.find("server.colour"), std::string::npos) << config.error().message;
}

TEST_F(LoadConfigTest, UnknownSectionIsNamed) {
  auto config = load_config(write_toml("[mail]\nhost = \"smtp\"\n"));
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("mail.host"), std::string::npos) << config.error().message;
}

TEST_F(LoadConfigTest, TopLevelValueOutsideASectionIsRefused) {
  auto config = load_config(write_toml("listen = \"0.0.0.0:1\"\n"));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "invalid_config");
  EXPECT_NE(config.error().message.find("listen"), std::string::npos) << config.error().message;
}

TEST_F(LoadConfigTest, BadValuesNameTheKey) {
  struct Case {
    const char* toml;
    const char* key;
  };
  for (const Case& c : {
           Case{"[session]\nidle_timeout = \"soon\"\n", "session.idle_timeout"},
           Case{"[session]\nidle_timeout = \"500ms\"\n", "session.idle_timeout"},  // below 1s
           Case{"[server]\nthreads = 1000\n", "server.threads"},                  // out of range
           Case{"[server]\nthreads = -1\n", "server.threads"},
           Case{"[server]\nthreads = 1.5\n", "server.threads"},
           Case{"[server]\nbody_limit = \"12\"\n", "server.body_limit"},  // below 1 KiB
           Case{"[store]\nsynchronous = \"sometimes\"\n", "store.synchronous"},
           Case{"[log]\nrequests = \"yes\"\n", "log.requests"},
           Case{"[log]\nlevel = \"verbose\"\n", "log.level"},
           Case{"[password]\nmemory_kib = 4\n", "password.memory_kib"},
       }) {
    auto config = load_config(write_toml(c.toml));
    ASSERT_FALSE(config) << c.toml;
    EXPECT_EQ(config.error().code, "invalid_config") << c.toml;
    EXPECT_NE(config.error().message.find(c.key), std::string::npos) << c.toml << " -> " << config.error().message;
  }
}

TEST_F(LoadConfigTest, MissingFileIsAnError) {
  auto config = load_config((dir_ / "absent.toml").string());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "invalid_config");
}

TEST_F(LoadConfigTest, TomlSyntaxErrorIsAnError) {
  auto config = load_config(write_toml("[server\nlisten = \n"));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "invalid_config");
}

}  // namespace
}  // namespace tessera
