#pragma once

#include "contexts/context_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlContextStore final : public contexts::ContextStore {
 public:
  explicit SqlContextStore(Connection& conn) : conn_(conn) {}
  void insert(const contexts::Context& context) override;
  std::optional<contexts::Context> find(std::string_view project_id, std::string_view id) override;
  std::vector<contexts::Context> list(std::string_view project_id, std::optional<std::string_view> member_id, size_t limit,
                                      std::optional<std::string_view> before_id) override;
  bool remove(std::string_view project_id, std::string_view id) override;
  std::optional<contexts::Member> find_member(std::string_view context_id, std::string_view user_id) override;
  void put_member(const contexts::Member& member) override;
  bool remove_member(std::string_view context_id, std::string_view user_id) override;
  std::vector<contexts::Member> members(std::string_view context_id, size_t limit,
                                        const std::optional<std::pair<Timestamp, std::string>>& after) override;
  std::vector<contexts::Member> keys_of(std::string_view project_id, std::string_view user_id, size_t limit) override;
  void insert_challenge(const contexts::KeyChallenge& challenge) override;
  std::optional<contexts::KeyChallenge> consume_challenge(std::string_view id) override;
  uint64_t remove_expired_challenges(Timestamp now) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
