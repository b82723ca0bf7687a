// The tessera command: serve, migrate, project create|list, version.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "api/app.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "crypto/hash_worker.hpp"
#include "crypto/random.hpp"
#include "http/server.hpp"
#include "session/api_key_service.hpp"
#include "session/key_ring.hpp"
#include "store/open_store.hpp"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "0.0.0"
#endif

using namespace tessera;

namespace {

struct Options {
  std::optional<std::string> config_path;
  std::optional<std::string> data_dir;
  std::optional<std::string> listen;
};

Config load(const Options& o) {
  auto config = load_config(o.config_path);
  if (!config) throw std::runtime_error(config.error().message);
  if (o.data_dir) config->store.data_dir = *o.data_dir;
  if (o.listen) config->server.listen = *o.listen;
  log::set_level(config->log.level);
  return std::move(*config);
}

std::unique_ptr<store::Store> open_store(const Config& config) { return store::open_store(config.store); }

void ensure_default_project(projects::ProjectService& projects) {
  if (projects.count() > 0) return;
  auto created = projects.create("default", "Default project");
  if (created) log::info("project created", {{"alias", "default"}, {"id", created->id}});
}

int serve(const Options& o) {
  Config config = load(o);
  SystemClock clock;
  auto store = open_store(config);
  api::App app(config, std::move(store), clock);
  ensure_default_project(app.projects());
  app.load_config_providers();
  http::Server server(config.server, app.router(), app.metrics(), config.log.requests, app.handler_pool());
  std::string address = server.bind();
  app.start(address);
  unsigned threads = config.server.threads ? config.server.threads : std::max(1u, std::thread::hardware_concurrency());
  log::info("listening", {{"address", address}, {"store", store::describe_store(config.store)}, {"version", TESSERA_VERSION}},
            {{"threads", threads}});
  server.run(threads);
  log::info("stopped");
  return 0;
}

int migrate(const Options& o) {
  Config config = load(o);
  int applied = 0;
  store::open_store(config.store, &applied);
  std::cout << "migrations applied: " << applied << "\n";
  return 0;
}

int project_create(const Options& o, const std::string& alias, const std::string& name) {
  Config config = load(o);
  auto store = open_store(config);
  SystemClock clock;
  projects::ProjectService projects(*store, clock);
  ensure_default_project(projects);
  auto created = projects.create(alias, name);
  if (!created) {
    std::cerr << "error: " << created.error().message;
    for (auto& f : created.error().fields) std::cerr << " (" << f.field << " " << f.detail << ")";
    std::cerr << "\n";
    return 1;
  }
  std::cout << created->id << " " << created->alias << "\n";
  return 0;
}

int apikey_create(const Options& o, const std::string& project_name, const std::string& permissions,
                  const std::string& name) {
  Config config = load(o);
  auto store = open_store(config);
  SystemClock clock;
  projects::ProjectService projects(*store, clock);
  ensure_default_project(projects);
  auto project = projects.find(project_name);
  if (!project) {
    std::cerr << "error: no project '" << project_name << "'\n";
    return 1;
  }
  session::NewApiKey in;
  in.name = name;
  for (size_t start = 0; start <= permissions.size();) {
    size_t comma = permissions.find(',', start);
    if (comma == std::string::npos) comma = permissions.size();
    std::string p = permissions.substr(start, comma - start);
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
    if (!p.empty()) in.permissions.push_back(p);
    start = comma + 1;
  }
  session::ApiKeyService keys(*store, clock, 0);
  auto issued = keys.create(project->id, in, nullptr);
  if (!issued) {
    std::cerr << "error: " << issued.error().message;
    for (auto& f : issued.error().fields) std::cerr << " (" << f.field << ": " << f.detail << ")";
    std::cerr << "\n";
    return 1;
  }
  std::cout << "id: " << issued->key.id << "\nsecret: " << issued->secret << "\n"
            << "permissions: " << issued->key.permissions.scope() << "\n"
            << "The secret is shown only now; store it safely.\n";
  return 0;
}

int keys_rotate(const Options& o) {
  Config config = load(o);
  auto store = open_store(config);
  SystemClock clock;
  std::cout << "new signing key: " << session::KeyRing::rotate(*store, clock) << "\n"
            << "Running servers sign with it at once on PostgreSQL, within a minute on SQLite; the old key stays "
               "published until its tokens expire.\n";
  return 0;
}

int project_list(const Options& o) {
  Config config = load(o);
  auto store = open_store(config);
  SystemClock clock;
  projects::ProjectService projects(*store, clock);
  for (auto& p : projects.list()) std::cout << p->id << " " << p->alias << " " << p->name << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crypto::init();
  CLI::App cli{"Tessera: user management and authentication server"};
  cli.require_subcommand(1);
  Options o;
  auto add_common = [&o](CLI::App* cmd) {
    cmd->add_option("--config", o.config_path, "Path to tessera.toml");
    cmd->add_option("--data-dir", o.data_dir, "Directory of the embedded database (overrides [store] data_dir)");
  };
  auto* serve_cmd = cli.add_subcommand("serve", "Run the HTTP server");
  add_common(serve_cmd);
  serve_cmd->add_option("--listen", o.listen, "HOST:PORT to listen on (port 0 picks a free one)");
  auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending database migrations");
  add_common(migrate_cmd);
  auto* project_cmd = cli.add_subcommand("project", "Manage projects (tenants)");
  project_cmd->require_subcommand(1);
  std::string alias, name;
  auto* create_cmd = project_cmd->add_subcommand("create", "Create a project");
  add_common(create_cmd);
  create_cmd->add_option("--alias", alias, "Short name used in X-Tessera-Project")->required();
  create_cmd->add_option("--name", name, "Display name");
  auto* list_cmd = project_cmd->add_subcommand("list", "List projects");
  add_common(list_cmd);
  auto* apikey_cmd = cli.add_subcommand("apikey", "Manage API keys");
  apikey_cmd->require_subcommand(1);
  std::string key_project = "default", key_permissions, key_name;
  auto* apikey_create_cmd = apikey_cmd->add_subcommand("create", "Create an API key; prints its id and secret once");
  add_common(apikey_create_cmd);
  apikey_create_cmd->add_option("--project", key_project, "Project id or alias")->capture_default_str();
  apikey_create_cmd->add_option("--permissions", key_permissions, "Comma-separated, e.g. 'users:*,contexts:write'")->required();
  apikey_create_cmd->add_option("--name", key_name, "A name to recognize the key by");
  auto* keys_cmd = cli.add_subcommand("keys", "Manage the JWT signing keys");
  keys_cmd->require_subcommand(1);
  auto* rotate_cmd = keys_cmd->add_subcommand("rotate", "Start signing with a new key");
  add_common(rotate_cmd);
  auto* version_cmd = cli.add_subcommand("version", "Print the version");
  // Internal: a password hashing process started by `serve` (crypto/hash_worker.hpp), fd 3 is its socket.
  crypto::Argon2Params worker_params;
  int worker_nice = 0;
  auto* worker_cmd = cli.add_subcommand("hash-worker")->group("");
  worker_cmd->add_option("--memory-kib", worker_params.memory_kib)->required();
  worker_cmd->add_option("--iterations", worker_params.iterations)->required();
  worker_cmd->add_option("--nice", worker_nice);
  CLI11_PARSE(cli, argc, argv);

  try {
    if (*worker_cmd) {
      if (worker_nice != 0) setpriority(PRIO_PROCESS, 0, worker_nice);
      return crypto::run_hash_worker(3, worker_params);
    }
    if (*serve_cmd) return serve(o);
    if (*migrate_cmd) return migrate(o);
    if (*create_cmd) return project_create(o, alias, name);
    if (*list_cmd) return project_list(o);
    if (*apikey_create_cmd) return apikey_create(o, key_project, key_permissions, key_name);
    if (*rotate_cmd) return keys_rotate(o);
    if (*version_cmd) {
      std::cout << "tessera " << TESSERA_VERSION << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    log::error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
