#pragma once

#include "external/flow_store.hpp"
#include "external/identity_store.hpp"
#include "external/provider_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlProviderStore final : public external::ProviderStore {
 public:
  explicit SqlProviderStore(Connection& conn) : conn_(conn) {}
  bool insert(const external::Provider& provider) override;
  std::optional<external::Provider> find(std::string_view project_id, std::string_view name) override;
  std::vector<external::Provider> list(std::string_view project_id) override;
  void update(const external::Provider& provider) override;
  bool remove(std::string_view project_id, std::string_view name) override;

 private:
  Connection& conn_;
};

class SqlIdentityStore final : public external::IdentityStore {
 public:
  explicit SqlIdentityStore(Connection& conn) : conn_(conn) {}
  std::optional<external::Identity> find(std::string_view project_id, std::string_view provider,
                                         std::string_view subject) override;
  std::vector<external::Identity> list_for_user(std::string_view user_id) override;
  bool insert(const external::Identity& identity) override;
  bool remove(std::string_view user_id, std::string_view provider) override;
  std::vector<std::string> remove_for_provider(std::string_view project_id, std::string_view provider) override;

 private:
  Connection& conn_;
};

class SqlFlowStore final : public external::FlowStore {
 public:
  explicit SqlFlowStore(Connection& conn) : conn_(conn) {}
  void insert_flow(std::string_view state_hash, const external::OAuthFlow& flow) override;
  std::optional<external::OAuthFlow> consume_flow(std::string_view state_hash) override;
  void insert_code(std::string_view code_hash, const external::LoginCode& code) override;
  std::optional<external::LoginCode> consume_code(std::string_view code_hash) override;
  uint64_t remove_expired(Timestamp now) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
