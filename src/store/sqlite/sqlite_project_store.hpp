#pragma once

#include "projects/project_store.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace tessera::store::sqlite {

class SqliteProjectStore final : public projects::ProjectStore {
 public:
  explicit SqliteProjectStore(Connection& conn) : conn_(conn) {}
  bool insert(const projects::Project& project) override;
  std::vector<projects::Project> list() override;
  bool update(const projects::Project& project) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sqlite
