// Permissions are "resource:action" strings (API.md), with "resource:*" and "*" as wildcards.
// A PermissionSet answers whether it allows one permission, and combines with others: a token's
// scope narrows what its subject holds (intersection), roles add up (union).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace tessera::access {

// Known resources and actions; anything else is refused when granted, so a typo never grants nothing silently.
bool valid_permission(std::string_view permission);

class PermissionSet {
 public:
  PermissionSet() = default;
  // Keeps valid entries only, without duplicates, sorted.
  explicit PermissionSet(const std::vector<std::string>& permissions);
  static PermissionSet everything() { return PermissionSet({"*"}); }
  // 422 validation_failed naming `field[i]` for each invalid entry.
  static Result<PermissionSet> parse(const std::vector<std::string>& permissions, const std::string& field);
  // Space-separated, as OAuth scopes are.
  static PermissionSet from_scope(std::string_view scope);

  bool allows(std::string_view needed) const;
  // True when every permission of `other` is allowed here: granting `other` is no escalation.
  bool covers(const PermissionSet& other) const;
  PermissionSet intersect(const PermissionSet& other) const;
  PermissionSet unite(const PermissionSet& other) const;

  const std::vector<std::string>& list() const { return permissions_ ? *permissions_ : kNone; }
  std::string scope() const;
  bool empty() const { return list().empty(); }
  bool operator==(const PermissionSet& other) const { return list() == other.list(); }

 private:
  // Shared and immutable: a set is copied into every request's caller, so a copy is a reference count.
  std::shared_ptr<const std::vector<std::string>> permissions_;
  static inline const std::vector<std::string> kNone;
  void assign(std::vector<std::string> sorted_unique);
};

}  // namespace tessera::access
