#pragma once

#include "projects/project_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlProjectStore final : public projects::ProjectStore {
 public:
  explicit SqlProjectStore(Connection& conn) : conn_(conn) {}
  bool insert(const projects::Project& project) override;
  std::vector<projects::Project> list() override;
  bool update(const projects::Project& project) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
