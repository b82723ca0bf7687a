// Mail templates: the defaults, the placeholders they may use ({{user.email}}, {{link}}, ...), checks
// for a project's own templates, and rendering.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "projects/project.hpp"

namespace tessera::events {

// "password_reset", "email_verification"
const std::vector<std::string_view>& mail_template_names();
const std::vector<std::string_view>& mail_placeholders();
projects::MailTemplate default_mail_template(std::string_view name);
// The project's template, or the default.
projects::MailTemplate mail_template_for(const projects::Project& project, std::string_view name);

// Errors for unknown placeholders, unclosed braces, empty subjects or oversized texts; `field` prefixes
// the field names ("mail_templates.password_reset").
void check_mail_template(const std::string& field, const projects::MailTemplate& t, std::vector<FieldError>& errors);

// Where a project's mail links point: its public_url, else [server] public_url, else http://<listen>.
std::string mail_link_base(const projects::Project& project, const ServerConfig& server);

// `values` holds the placeholders' values by path ({"user": {"email": ...}, "link": ...}); a missing one
// renders empty. Values are HTML-escaped in the html part; line breaks are removed from the subject.
projects::MailTemplate render_mail(const projects::MailTemplate& t, const boost::json::object& values);

}  // namespace tessera::events
