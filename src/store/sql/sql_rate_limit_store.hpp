#pragma once

#include "identity/rate_limit_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlRateLimitStore final : public identity::RateLimitStore {
 public:
  explicit SqlRateLimitStore(Connection& conn) : conn_(conn) {}
  identity::RateWindow hit(std::string_view key_hash, Timestamp now, Timestamp stale_before) override;
  uint64_t remove_stale(Timestamp stale_before) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
