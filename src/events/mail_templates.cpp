#include "events/mail_templates.hpp"

#include <algorithm>

namespace tessera::events {

namespace {
constexpr size_t kMaxSubject = 500;
constexpr size_t kMaxBody = 64 * 1024;

const projects::MailTemplate kPasswordReset{
    "Reset your {{project.name}} password",
    "Hello,\n\n"
    "Someone asked to reset the password of your {{project.name}} account ({{user.email}}).\n"
    "Open this link within {{expires_in}} to choose a new one:\n\n"
    "{{link}}\n\n"
    "If you did not ask for this, ignore this message: your password stays as it is.\n",
    "<p>Hello,</p>\n"
    "<p>Someone asked to reset the password of your {{project.name}} account ({{user.email}}).<br>\n"
    "Open this link within {{expires_in}} to choose a new one:</p>\n"
    "<p><a href=\"{{link}}\">Choose a new password</a></p>\n"
    "<p>If you did not ask for this, ignore this message: your password stays as it is.</p>\n"};

const projects::MailTemplate kEmailVerification{
    "Confirm your email address for {{project.name}}",
    "Hello,\n\n"
    "Please confirm that {{user.email}} is your address for {{project.name}} by opening this link within "
    "{{expires_in}}:\n\n"
    "{{link}}\n\n"
    "If you did not sign up, ignore this message.\n",
    "<p>Hello,</p>\n"
    "<p>Please confirm that {{user.email}} is your address for {{project.name}} by opening this link within "
    "{{expires_in}}:</p>\n"
    "<p><a href=\"{{link}}\">Confirm my email address</a></p>\n"
    "<p>If you did not sign up, ignore this message.</p>\n"};

// Calls on_text for literal runs and on_placeholder for each {{name}} (trimmed); false on an unclosed "{{".
template <class Text, class Placeholder>
bool scan(std::string_view in, Text on_text, Placeholder on_placeholder) {
  size_t pos = 0;
  while (pos < in.size()) {
    size_t open = in.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = in.find("}}", open + 2);
    if (close == std::string_view::npos) return false;
    on_text(in.substr(pos, open - pos));
    std::string_view name = in.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    on_placeholder(name);
    pos = close + 2;
  }
  on_text(in.substr(pos));
  return true;
}

std::string lookup(const boost::json::object& values, std::string_view path) {
  const boost::json::object* at = &values;
  while (true) {
    size_t dot = path.find('.');
    auto it = at->find(path.substr(0, dot));
    if (it == at->end()) return {};
    if (dot == std::string_view::npos) {
      if (it->value().is_string()) return std::string(it->value().as_string());
      return {};
    }
    if (!it->value().is_object()) return {};
    at = &it->value().as_object();
    path.remove_prefix(dot + 1);
  }
}

std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

enum class Escape { none, html, header };

std::string render(std::string_view text, const boost::json::object& values, Escape escape) {
  std::string out;
  scan(
      text, [&](std::string_view literal) { out += literal; },
      [&](std::string_view name) {
        std::string v = lookup(values, name);
        if (escape == Escape::html) v = html_escape(v);
        out += v;
      });
  if (escape == Escape::header) std::replace_if(out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}
}  // namespace

const std::vector<std::string_view>& mail_template_names() {
  static const std::vector<std::string_view> names = {"password_reset", "email_verification"};
  return names;
}

const std::vector<std::string_view>& mail_placeholders() {
  static const std::vector<std::string_view> names = {"user.id", "user.email", "user.login", "user.full_name",
                                                      "project.name", "link", "token", "expires_in"};
  return names;
}

projects::MailTemplate default_mail_template(std::string_view name) {
  return name == "password_reset" ? kPasswordReset : kEmailVerification;
}

projects::MailTemplate mail_template_for(const projects::Project& project, std::string_view name) {
  auto it = project.mail_templates.find(std::string(name));
  return it != project.mail_templates.end() ? it->second : default_mail_template(name);
}

void check_mail_template(const std::string& field, const projects::MailTemplate& t, std::vector<FieldError>& errors) {
  auto check = [&](const char* part, const std::string& text, size_t max, bool required) {
    std::string name = field + "." + part;
    if (required && text.empty()) return errors.push_back({name, "required", "must not be empty"});
    if (text.size() > max) return errors.push_back({name, "too_long", "must be at most " + std::to_string(max) + " bytes"});
    std::string unknown;
    bool closed = scan(
        text, [](std::string_view) {},
        [&](std::string_view p) {
          auto& known = mail_placeholders();
          if (unknown.empty() && std::find(known.begin(), known.end(), p) == known.end()) unknown = p;
        });
    if (!closed) errors.push_back({name, "unclosed_placeholder", "has a '{{' without its '}}'"});
    else if (!unknown.empty())
      errors.push_back({name, "unknown_placeholder",
                        "uses {{" + unknown + "}}; known: user.id, user.email, user.login, user.full_name, "
                        "project.name, link, token, expires_in"});
  };
  check("subject", t.subject, kMaxSubject, true);
  check("text", t.text, kMaxBody, true);
  check("html", t.html, kMaxBody, false);
}

std::string mail_link_base(const projects::Project& project, const ServerConfig& server) {
  std::string base = project.public_url.value_or(server.public_url);
  if (base.empty()) base = "http://" + server.listen;
  while (base.ends_with('/')) base.pop_back();
  return base;
}

projects::MailTemplate render_mail(const projects::MailTemplate& t, const boost::json::object& values) {
  return {render(t.subject, values, Escape::header), render(t.text, values, Escape::none),
          render(t.html, values, Escape::html)};
}

}  // namespace tessera::events
