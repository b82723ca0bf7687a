// Mail built from untrusted text: a project's templates (placeholders, braces) and users' names and
// addresses, through template checks, rendering and the MIME message builder.
#include <cstdint>
#include <string>

#include "events/mail_message.hpp"
#include "events/mail_templates.hpp"
#include "events/webhook_sender.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  std::string s(reinterpret_cast<const char*>(data), size);
  projects::MailTemplate t{s.substr(0, s.size() / 3), s.substr(s.size() / 3), s};
  std::vector<FieldError> errors;
  events::check_mail_template("mail_templates.password_reset", t, errors);
  boost::json::object values{{"user", {{"email", s}, {"full_name", s}}}, {"link", s}, {"token", s}};
  auto mail = events::render_mail(t, values);
  (void)events::mail_address(s);
  (void)events::webhook_url_problem(s);
  std::string message = events::build_mail({"Tessera <no-reply@example.com>", "to@example.com", mail.subject,
                                            mail.text, mail.html, "id@tessera", Timestamp{}});
  if (message.find("\r\n\r\n") == std::string::npos) __builtin_trap();  // headers always end
  return 0;
}
