#include "store/open_store.hpp"

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace tessera::store {

std::unique_ptr<Store> open_store(const StoreConfig& config, int* applied) {
  int ran = 0;
  std::unique_ptr<Store> out;
  if (config.url.empty()) {
    auto store = std::make_unique<sqlite::SqliteStore>(config.data_dir, config.synchronous);
    ran = store->migrate();
    out = std::move(store);
  } else {
    if (!config.url.starts_with("postgres://") && !config.url.starts_with("postgresql://"))
      throw StoreFailure("[store] url must start with postgres:// or postgresql://");
    auto store = std::make_unique<postgres::PgStore>(config.url, config.pool_size);
    ran = store->migrate();
    out = std::move(store);
  }
  if (applied) *applied = ran;
  return out;
}

std::string describe_store(const StoreConfig& config) {
  if (config.url.empty()) return "sqlite " + config.data_dir + "/tessera.db";
  return "postgres " + postgres::redact_url(config.url);
}

}  // namespace tessera::store
