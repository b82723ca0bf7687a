#include "events/dispatcher.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/log.hpp"
#include "events/mail_message.hpp"
#include "events/mail_templates.hpp"
#include "events/signature.hpp"
#include "events/webhook_service.hpp"
#include "store/store.hpp"

namespace tessera::events {

namespace {
constexpr size_t kClaimBatch = 1;  // one at a time: a slow target holds up one thread, never rows queued behind it
constexpr auto kIdlePoll = std::chrono::seconds(1);
constexpr auto kLeaseSlack = std::chrono::seconds(30);

double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

// The values a sent mail no longer needs to keep: the token and the link that carries it.
std::string scrubbed_mail(const boost::json::object& payload) {
  boost::json::object copy = payload;
  if (auto* values = copy.if_contains("values"); values && values->is_object()) {
    values->as_object().erase("token");
    values->as_object().erase("link");
  }
  return boost::json::serialize(copy);
}
}  // namespace

Dispatcher::Dispatcher(store::Store& store, const Clock& clock, const Config& config, projects::ProjectService& projects,
                       std::string node_id)
    : node_id_(std::move(node_id)),
      store_(store),
      clock_(clock),
      config_(config),
      projects_(projects),
      webhooks_(config.events.webhook_timeout, config.events.webhook_allow_private,
                std::string("Tessera/") + TESSERA_VERSION),
      smtp_(config.mail) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  webhook_key_ = store_.write([this](store::Repositories& r) {
    // Leases this node still holds are from its previous run, which died: free them now. Other nodes'
    // leases may be live; those of a node that died and does not come back simply run out.
    r.outbox.release_leases(node_id_);
    return r.webhooks.secret_key();
  });
  for (unsigned i = 0; i < config_.events.workers; ++i) threads_.emplace_back([this] { run(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakes_;
  }
  wake_.notify_all();
}

uint64_t Dispatcher::sweep() {
  Timestamp before = clock_.now() - config_.events.retention;
  return store_.write([&](store::Repositories& r) { return r.outbox.remove_finished(before); });
}

void Dispatcher::run() {
  Micros lease = config_.events.webhook_timeout + config_.mail.timeout + kLeaseSlack;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    uint64_t seen = wakes_;
    lock.unlock();
    std::vector<Delivery> due;
    std::optional<Timestamp> next;
    try {
      Timestamp now = clock_.now();
      due = store_.write([&](store::Repositories& r) { return r.outbox.claim(now, now + lease, kClaimBatch, node_id_); });
      for (const Delivery& d : due)
        if (auto result = deliver(d)) store_.write([&](store::Repositories& r) { r.outbox.record(*result); });
      if (due.empty()) next = store_.read([](store::Repositories& r) { return r.outbox.next_due(); });
    } catch (const std::exception& e) {
      log::error("event delivery failed", {{"internal", e.what()}});
    }
    lock.lock();
    if (!due.empty()) continue;  // there may be more
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kIdlePoll);
    if (next) wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_.now()),
                                std::chrono::milliseconds(0), wait);
    wake_.wait_for(lock, wait, [&] { return stopping_ || wakes_ != seen; });
  }
}

DeliveryOutcome Dispatcher::outcome(const Delivery& d, DeliveryStatus status) const {
  DeliveryOutcome o;
  o.id = d.id;
  o.status = status;
  o.next_attempt_at = clock_.now();
  if (status == DeliveryStatus::delivered) o.delivered_at = o.next_attempt_at;
  return o;
}

std::optional<DeliveryOutcome> Dispatcher::deliver(const Delivery& d) {
  try {
    switch (d.channel) {
      case Channel::webhook: return deliver_webhook(d);
      case Channel::mail: return deliver_mail(d);
      case Channel::task: return run_task(d);
    }
  } catch (const std::exception& e) {
    return retry_or_fail(d, std::nullopt, e.what());
  }
  return retry_or_fail(d, std::nullopt, "unknown channel");
}

DeliveryOutcome Dispatcher::retry_or_fail(const Delivery& d, std::optional<int> response_status, std::string error) {
  DeliveryOutcome o = outcome(d, DeliveryStatus::pending);
  o.response_status = response_status;
  o.last_error = std::move(error);
  o.next_attempt_at = clock_.now();
  if (d.attempts >= static_cast<int>(config_.events.max_attempts)) {
    o.status = DeliveryStatus::failed;
    if (d.channel == Channel::mail) o.payload = scrubbed_mail(boost::json::parse(d.payload).as_object());
    log::warn("delivery failed for good", {{"delivery_id", d.id}, {"event_type", d.event_type}, {"error", *o.last_error}},
              {{"attempts", d.attempts}});
    return o;
  }
  double base = static_cast<double>(config_.events.retry_base.count()) * std::pow(2.0, std::min(d.attempts - 1, 40));
  auto delay = Micros(static_cast<int64_t>(std::min(base, static_cast<double>(config_.events.retry_max.count())) * jitter()));
  o.next_attempt_at = clock_.now() + delay;
  return o;
}

DeliveryOutcome Dispatcher::deliver_webhook(const Delivery& d) {
  auto found = store_.read([&](store::Repositories& r) { return r.webhooks.find(d.project_id, *d.webhook_id); });
  if (!found || !found->first.active) {
    DeliveryOutcome o = outcome(d, DeliveryStatus::failed);
    o.last_error = "the webhook was disabled";
    return o;
  }
  auto& [webhook, salt] = *found;
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  WebhookRequest request{webhook.url, d.payload,
                         {{"Content-Type", "application/json"},
                          {"Tessera-Signature", webhook_signature(webhook_secret(webhook_key_, webhook.id, salt), now_s, d.payload)},
                          {"Tessera-Event-Id", d.event_id},
                          {"Tessera-Event-Type", d.event_type},
                          {"Tessera-Delivery-Id", d.id},
                          {"Tessera-Delivery-Attempt", std::to_string(d.attempts)}}};
  WebhookResponse response = webhooks_.post(request);
  std::optional<int> status;
  if (response.status) status = static_cast<int>(response.status);
  if (!response.ok())
    return retry_or_fail(d, status, response.error.empty() ? "HTTP " + std::to_string(response.status) : response.error);
  DeliveryOutcome o = outcome(d, DeliveryStatus::delivered);
  o.response_status = status;
  return o;
}

DeliveryOutcome Dispatcher::deliver_mail(const Delivery& d) {
  boost::json::object payload = boost::json::parse(d.payload).as_object();
  auto project = projects_.find(d.project_id);
  if (!project) throw std::runtime_error("unknown project " + d.project_id);
  boost::json::object values = payload.at("values").as_object();
  values["project"] = {{"name", project->name}};
  std::string to(payload.at("to").as_string());
  projects::MailTemplate mail = render_mail(mail_template_for(*project, payload.at("template").as_string()), values);
  std::string from = project->mail_from.value_or(config_.mail.from);
  std::string message = build_mail({from, to, mail.subject, mail.text, mail.html, d.id + "@tessera", clock_.now()});

  std::optional<std::string> error;
  if (config_.mail.mode == "log") {
    error = write_mail_file(d.id, message);
    if (!error)
      log::info("mail written (mail mode is log)",
                {{"to", to}, {"subject", mail.subject}, {"link", values.contains("link") ? values.at("link").as_string() : ""},
                 {"file", "mail/" + d.id + ".eml"}});
  } else {
    auto from_address = mail_address(from);
    error = from_address ? smtp_.send(*from_address, to, message) : std::optional<std::string>("invalid sender " + from);
  }
  if (error) return retry_or_fail(d, std::nullopt, *error);
  DeliveryOutcome o = outcome(d, DeliveryStatus::delivered);
  o.payload = scrubbed_mail(payload);
  return o;
}

std::optional<std::string> Dispatcher::write_mail_file(const std::string& id, const std::string& message) const {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(config_.store.data_dir) / "mail";
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path tmp = dir / (id + ".tmp"), final_path = dir / (id + ".eml");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << message;
    if (!out.flush()) return "cannot write " + tmp.string();
  }
  fs::rename(tmp, final_path, ec);
  if (ec) return "cannot write " + final_path.string() + ": " + ec.message();
  return std::nullopt;
}

std::optional<DeliveryOutcome> Dispatcher::run_task(const Delivery& d) {
  auto it = tasks_.find(d.event_type);
  if (it == tasks_.end()) return retry_or_fail(d, std::nullopt, "no handler for task " + d.event_type);
  store_.write([&](store::Repositories& r) {
    it->second(r, d.project_id, boost::json::parse(d.payload).as_object());
    r.outbox.record(outcome(d, DeliveryStatus::delivered));
  });
  return std::nullopt;
}

}  // namespace tessera::events
