// Chooses the backend: PostgreSQL when [store] url is set, else the embedded SQLite database.
#pragma once

#include <memory>

#include "core/config.hpp"
#include "store/store.hpp"

namespace tessera::store {

// Opens the configured store and applies its pending migrations; `applied` receives how many ran.
std::unique_ptr<Store> open_store(const StoreConfig& config, int* applied = nullptr);

// A description for logs ("sqlite ./data/tessera.db", "postgres postgres://app:***@db/tessera").
std::string describe_store(const StoreConfig& config);

}  // namespace tessera::store
