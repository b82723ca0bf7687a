// The delivery threads: they claim due outbox rows, deliver them (a signed webhook POST, a mail, or a
// task such as a password-reset lookup) and record the outcome, retrying failures with exponential
// backoff. Rows survive crashes and restarts; delivery is at least once, with stable ids.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "events/event.hpp"
#include "events/smtp_sender.hpp"
#include "events/webhook_sender.hpp"
#include "projects/project_service.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}

namespace tessera::events {

class Dispatcher {
 public:
  // A task runs once per attempt; it throws to be retried. Its writes (and the outbox rows they add)
  // commit in the transaction that marks it done, so a crash can never make a finished task run again.
  using Task = std::function<void(store::Repositories& r, const std::string& project_id, const boost::json::object& input)>;

  // `node_id`: this node's stable name (core/node_id.hpp), recorded on the deliveries it holds.
  Dispatcher(store::Store& store, const Clock& clock, const Config& config, projects::ProjectService& projects,
             std::string node_id);
  ~Dispatcher();

  void on_task(std::string name, Task task) { tasks_[std::move(name)] = std::move(task); }
  // Starts the delivery threads; rows a previous process held are released first.
  void start();
  void stop();
  // New rows were committed: look now instead of at the next poll.
  void wake();
  // Deletes finished deliveries older than [events] retention.
  uint64_t sweep();

 private:
  void run();
  DeliveryOutcome outcome(const Delivery& d, DeliveryStatus status) const;
  // The outcome to record, or nullopt when the delivery recorded it itself (a task that ran).
  std::optional<DeliveryOutcome> deliver(const Delivery& d);
  DeliveryOutcome deliver_webhook(const Delivery& d);
  DeliveryOutcome deliver_mail(const Delivery& d);
  std::optional<DeliveryOutcome> run_task(const Delivery& d);
  // A failed attempt: retried after the backoff, or failed for good after max_attempts.
  DeliveryOutcome retry_or_fail(const Delivery& d, std::optional<int> response_status, std::string error);
  std::optional<std::string> write_mail_file(const std::string& id, const std::string& message) const;

  std::string node_id_;
  store::Store& store_;
  const Clock& clock_;
  const Config& config_;
  projects::ProjectService& projects_;
  WebhookSender webhooks_;
  SmtpSender smtp_;
  std::map<std::string, Task> tasks_;
  std::string webhook_key_;  // the server key webhook secrets derive from

  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t wakes_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tessera::events
