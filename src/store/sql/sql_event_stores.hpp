#pragma once

#include "events/event_store.hpp"
#include "identity/one_time_token_store.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

class SqlWebhookStore final : public events::WebhookStore {
 public:
  explicit SqlWebhookStore(Connection& conn) : conn_(conn) {}
  void insert(const events::Webhook& webhook, std::string_view secret_salt) override;
  std::optional<std::pair<events::Webhook, std::string>> find(std::string_view project_id, std::string_view id) override;
  std::vector<events::Webhook> list(std::string_view project_id, size_t limit,
                                    std::optional<std::string_view> after_id) override;
  std::vector<events::Webhook> active(std::string_view project_id) override;
  bool update(const events::Webhook& webhook) override;
  void set_salt(std::string_view id, std::string_view secret_salt, Timestamp updated_at) override;
  bool remove(std::string_view project_id, std::string_view id) override;
  std::string secret_key() override;

 private:
  Connection& conn_;
};

class SqlOutboxStore final : public events::OutboxStore {
 public:
  explicit SqlOutboxStore(Connection& conn) : conn_(conn) {}
  void insert(const events::Delivery& delivery) override;
  std::vector<events::Delivery> claim(Timestamp now, Timestamp lease_until, size_t limit,
                                      std::string_view holder) override;
  void record(const events::DeliveryOutcome& outcome) override;
  void release_leases(std::string_view holder) override;
  std::vector<events::Delivery> list_for_webhook(std::string_view webhook_id, std::optional<events::DeliveryStatus> status,
                                                 size_t limit, std::optional<std::string_view> before_id) override;
  uint64_t remove_finished(Timestamp before) override;
  std::optional<Timestamp> next_due() override;
  uint64_t count_pending() override;

  // Whether this connection inserted deliveries since the last call (the store wakes the delivery
  // threads after such a commit).
  bool take_inserted() { return std::exchange(inserted_, false); }

 private:
  Connection& conn_;
  bool inserted_ = false;
};

class SqlOneTimeTokenStore final : public identity::OneTimeTokenStore {
 public:
  explicit SqlOneTimeTokenStore(Connection& conn) : conn_(conn) {}
  void insert(std::string_view token_hash, const identity::OneTimeToken& token) override;
  std::optional<identity::OneTimeToken> consume(std::string_view token_hash, identity::TokenPurpose purpose) override;
  void remove_for_user(std::string_view user_id, identity::TokenPurpose purpose) override;
  uint64_t remove_expired(Timestamp now) override;

 private:
  Connection& conn_;
};

}  // namespace tessera::store::sql
