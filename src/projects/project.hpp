// A project is a tenant: users, sessions and keys belong to exactly one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace tessera::projects {

// A mail template; its texts hold placeholders such as {{link}} (events/mail_templates.hpp).
struct MailTemplate {
  std::string subject, text, html;
  bool operator==(const MailTemplate&) const = default;
};

struct Project {
  std::string id;
  std::string alias;
  std::string name;
  std::optional<Micros> session_idle_timeout;  // per-project override of [session] idle_timeout
  std::optional<Micros> session_lifetime;      // per-project override of [session] lifetime
  std::optional<std::string> public_url;  // the application's address, for links in mails
  std::optional<std::string> mail_from;   // overrides [mail] from
  std::map<std::string, MailTemplate> mail_templates;  // by name ("password_reset", ...): overrides of the defaults
  std::vector<std::string> redirect_allow_list;  // where external sign-ins may send the browser
  bool link_by_email = false;  // link a new external identity to the user with the same verified email
  Timestamp created_at;
};

}  // namespace tessera::projects
