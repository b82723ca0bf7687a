// Storage of webhooks and of the outbox, implemented by each backend (store/sqlite).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/event.hpp"

namespace tessera::events {

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;
  virtual void insert(const Webhook& webhook, std::string_view secret_salt) = 0;
  // With its secret salt.
  virtual std::optional<std::pair<Webhook, std::string>> find(std::string_view project_id, std::string_view id) = 0;
  virtual std::vector<Webhook> list(std::string_view project_id, size_t limit, std::optional<std::string_view> after_id) = 0;
  // The active webhooks of a project.
  virtual std::vector<Webhook> active(std::string_view project_id) = 0;
  virtual bool update(const Webhook& webhook) = 0;
  virtual void set_salt(std::string_view id, std::string_view secret_salt, Timestamp updated_at) = 0;
  virtual bool remove(std::string_view project_id, std::string_view id) = 0;
  // The server key webhook secrets are derived under (created on first use).
  virtual std::string secret_key() = 0;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  virtual void insert(const Delivery& delivery) = 0;
  // Takes up to `limit` due pending deliveries that no thread holds, holds them for the node `holder`
  // until `lease_until` and counts the attempt.
  virtual std::vector<Delivery> claim(Timestamp now, Timestamp lease_until, size_t limit, std::string_view holder) = 0;
  virtual void record(const DeliveryOutcome& outcome) = 0;
  // Frees the rows `holder` held (at a node's start-up: they were held by its previous run, which died),
  // and rows held before holders were recorded.
  virtual void release_leases(std::string_view holder) = 0;
  // A webhook's deliveries, newest first.
  virtual std::vector<Delivery> list_for_webhook(std::string_view webhook_id, std::optional<DeliveryStatus> status,
                                                 size_t limit, std::optional<std::string_view> before_id) = 0;
  // Delivered and failed rows created before `before`.
  virtual uint64_t remove_finished(Timestamp before) = 0;
  virtual uint64_t count_pending() = 0;
  // When the earliest pending delivery is due, if any.
  virtual std::optional<Timestamp> next_due() = 0;
};

}  // namespace tessera::events
