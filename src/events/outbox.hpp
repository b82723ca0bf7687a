// Writing to the outbox, inside the caller's write transaction: the change and what must follow from
// it (webhook POSTs, mails, tasks) commit together or not at all.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "events/event.hpp"

namespace tessera::store {
struct Repositories;
}

namespace tessera::events {

struct MailRequest {
  std::string to;
  std::string template_name;  // "password_reset", "email_verification"
  boost::json::object values;  // the placeholders' values: user, link, token, expires_in
};

// Queues the event for every active webhook of its project that wants it, and the mail, if any.
// Returns the event id.
std::string record(store::Repositories& repos, Timestamp now, const Event& event,
                   const std::optional<MailRequest>& mail = std::nullopt);

// Whether an active webhook of the project wants `type` (bulk changes skip building events nobody gets).
bool has_subscribers(store::Repositories& repos, std::string_view project_id, std::string_view type);

// Queues work for a delivery thread, to run after the request is answered (see TaskRunner).
void record_task(store::Repositories& repos, Timestamp now, std::string_view project_id, std::string_view task,
                 boost::json::object input);

}  // namespace tessera::events
