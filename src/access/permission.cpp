#include "access/permission.hpp"

#include <algorithm>
#include <array>

namespace tessera::access {

namespace {
struct Resource {
  std::string_view name;
  std::vector<std::string_view> actions;
};
const std::array<Resource, 7>& catalogue() {
  static const std::array<Resource, 7> resources = {{
      {"users", {"read", "write", "delete"}},
      {"apikeys", {"manage"}},
      {"roles", {"manage"}},
      {"contexts", {"read", "write"}},
      {"licenses", {"read", "write"}},
      {"webhooks", {"manage"}},
      {"projects", {"manage"}},
  }};
  return resources;
}

// "users:read" is allowed by "users:read", "users:*" and "*".
bool grants(std::string_view held, std::string_view needed) {
  if (held == "*" || held == needed) return true;
  if (held.ends_with(":*")) {
    std::string_view resource = held.substr(0, held.size() - 1);  // "users:"
    return needed.starts_with(resource);
  }
  return false;
}
}  // namespace

bool valid_permission(std::string_view p) {
  if (p == "*") return true;
  size_t colon = p.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view resource = p.substr(0, colon), action = p.substr(colon + 1);
  for (const auto& r : catalogue())
    if (r.name == resource)
      return action == "*" || std::find(r.actions.begin(), r.actions.end(), action) != r.actions.end();
  return false;
}

PermissionSet::PermissionSet(const std::vector<std::string>& permissions) {
  std::vector<std::string> kept;
  for (const auto& p : permissions)
    if (valid_permission(p)) kept.push_back(p);
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  assign(std::move(kept));
}

void PermissionSet::assign(std::vector<std::string> sorted_unique) {
  if (sorted_unique.empty()) permissions_.reset();
  else permissions_ = std::make_shared<const std::vector<std::string>>(std::move(sorted_unique));
}

Result<PermissionSet> PermissionSet::parse(const std::vector<std::string>& permissions, const std::string& field) {
  std::vector<FieldError> errors;
  for (size_t i = 0; i < permissions.size(); ++i)
    if (!valid_permission(permissions[i]))
      errors.push_back({field + "[" + std::to_string(i) + "]", "unknown_permission",
                        "'" + permissions[i] + "' is not a permission (resource:action, resource:* or *)"});
  if (!errors.empty()) return fail(Error::validation(std::move(errors)));
  return PermissionSet(permissions);
}

PermissionSet PermissionSet::from_scope(std::string_view scope) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < scope.size()) {
    size_t space = scope.find(' ', start);
    if (space == std::string_view::npos) space = scope.size();
    if (space > start) parts.emplace_back(scope.substr(start, space - start));
    start = space + 1;
  }
  return PermissionSet(parts);
}

bool PermissionSet::allows(std::string_view needed) const {
  for (const auto& held : list())
    if (grants(held, needed)) return true;
  return false;
}

bool PermissionSet::covers(const PermissionSet& other) const {
  for (const auto& p : other.list())
    if (!allows(p)) return false;
  return true;
}

PermissionSet PermissionSet::intersect(const PermissionSet& other) const {
  // Wildcards nest ("*" > "users:*" > "users:read"), so the narrower of two overlapping entries is
  // exactly their intersection.
  if (permissions_ == other.permissions_) return *this;
  std::vector<std::string> out;
  for (const auto& p : list())
    if (other.allows(p)) out.push_back(p);
  for (const auto& p : other.list())
    if (allows(p)) out.push_back(p);
  PermissionSet result(out);
  // Drop entries already covered by a wider one that is kept.
  std::vector<std::string> minimal;
  for (const auto& p : result.list()) {
    bool covered = false;
    for (const auto& q : result.list())
      if (q != p && grants(q, p)) covered = true;
    if (!covered) minimal.push_back(p);
  }
  result.assign(std::move(minimal));
  return result;
}

PermissionSet PermissionSet::unite(const PermissionSet& other) const {
  std::vector<std::string> all = list();
  all.insert(all.end(), other.list().begin(), other.list().end());
  return PermissionSet(all);
}

std::string PermissionSet::scope() const {
  std::string out;
  for (const auto& p : list()) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

}  // namespace tessera::access
