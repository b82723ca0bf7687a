#include "identity/user.hpp"

namespace tessera::identity {

namespace {
boost::json::value optional_string(const std::optional<std::string>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
}  // namespace

boost::json::object to_json(const User& u) {
  boost::json::array tags;
  for (auto& t : u.tags) tags.emplace_back(t);
  return {
      {"id", u.id},
      {"project_id", u.project_id},
      {"email", optional_string(u.email)},
      {"login", optional_string(u.login)},
      {"phone", optional_string(u.phone)},
      {"full_name", optional_string(u.full_name)},
      {"external_id", optional_string(u.external_id)},
      {"tags", std::move(tags)},
      {"data", u.data},
      {"avatar_url", optional_string(u.avatar_url)},
      {"active", u.active},
      {"email_verified", u.email_verified},
      {"is_guest", u.is_guest},
      {"created_at", format_rfc3339(u.created_at)},
      {"updated_at", format_rfc3339(u.updated_at)},
      {"last_request_at", u.last_request_at ? boost::json::value(format_rfc3339(*u.last_request_at))
                                            : boost::json::value(nullptr)},
  };
}

}  // namespace tessera::identity
