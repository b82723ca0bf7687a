#include "external/redirect_allow_list.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace tessera::external {

namespace {

constexpr size_t kMaxUrlChars = 2048;

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The port, with the scheme's default made explicit: "https://a" and "https://a:443" are one origin.
std::string effective_port(const boost::urls::url_view& u) {
  if (!u.port().empty()) return std::string(u.port());
  if (u.scheme_id() == boost::urls::scheme::https) return "443";
  if (u.scheme_id() == boost::urls::scheme::http) return "80";
  return "";
}

// "https://a" and "https://a/" name one resource.
std::string path_of(const boost::urls::url_view& u) {
  std::string path(u.encoded_path());
  if (path.empty() && u.has_authority()) path = "/";
  return path;
}

bool has_dot_segment(const boost::urls::url_view& u) {
  for (auto segment : u.segments())
    if (segment == "." || segment == "..") return true;
  return false;
}

std::optional<boost::urls::url_view> parse(std::string_view text) {
  if (text.size() > kMaxUrlChars) return std::nullopt;
  auto parsed = boost::urls::parse_absolute_uri(text);  // the absolute-URI grammar has no fragment
  if (!parsed || parsed->has_userinfo()) return std::nullopt;
  return *parsed;
}

}  // namespace

std::optional<std::string> allow_list_entry_problem(std::string_view entry) {
  if (entry.size() > kMaxUrlChars) return "longer than 2048 characters";
  auto parsed = boost::urls::parse_absolute_uri(entry);
  if (!parsed) return "not an absolute URL without fragment";
  if (parsed->has_userinfo()) return "must not contain user:password";
  if (has_dot_segment(*parsed)) return "must not contain . or .. segments";
  return std::nullopt;
}

bool redirect_allowed(const std::vector<std::string>& allow_list, std::string_view redirect_to) {
  auto target = parse(redirect_to);
  if (!target || has_dot_segment(*target)) return false;
  std::string target_path = path_of(*target);
  for (const auto& text : allow_list) {
    auto entry = parse(text);
    if (!entry) continue;
    if (lower(entry->scheme()) != lower(target->scheme()) || entry->has_authority() != target->has_authority() ||
        lower(entry->encoded_host()) != lower(target->encoded_host()) || effective_port(*entry) != effective_port(*target))
      continue;
    std::string path = path_of(*entry);
    if (target_path == path || (path.ends_with('/') && target_path.starts_with(path))) return true;
  }
  return false;
}

}  // namespace tessera::external
