#pragma once

#include "contexts/context_store.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace tessera::store::sqlite {

class SqliteContextStore final : public contexts::ContextStore {
 public:
  explicit SqliteContextStore(Connection& conn) : conn_(conn) {}
  void insert(const contexts::Context& context) override;
  std::optional<contexts::Context> find(std::string_view project_id, std::string_view id) override;
  std::vector<contexts::Context> list(std::string_view project_id, std::optional<std::string_view> member_id, size_t limit,
                                      std::optional<std::string_view> before_id) override;
  bool remove(std::string_view project_id, std::string_view id) override;
  std::optional<contexts::Member> find_member(std::string_view context_id, std::string_view user_id) override;
  void put_member(const contexts::Member& member) override;
  bool remove_member(std::string_view context_id, std::string_view user_id) override;
  std::vector<contexts::Member> members(std::string_view context_id, size_t limit,
                                        std::optional<std::string_view> after_user_id) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sqlite
