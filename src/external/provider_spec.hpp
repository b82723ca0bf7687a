// Providers as the API and the config file describe them: a JSON object of fields, checked against the
// rules of its kind with presets filled in (docs/external.md, "Providers").
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

#include "core/error.hpp"
#include "external/provider.hpp"

namespace tessera::external {

struct SpecRules {
  bool allow_private = false;  // plain http URLs accepted (development, tests)
  bool from_config = false;    // the config file: client_secret_file and project allowed, client_secret refused
};

struct ProviderSpec {
  Provider provider;                        // no id, project or times yet
  std::optional<std::string> client_secret;  // given in clear (API only): the service seals it
  bool clear_secret = false;                 // a patch set client_secret to null
};

// Whether a field of the API applies to providers of `kind` (others are refused with not_for_kind).
bool field_applies(ProviderKind kind, std::string_view field);

// A whole provider from `fields`: 400 unknown_field for a field nobody knows, else one 422 naming every
// offending field.
// `has_sealed_secret`: a stored secret counts as given (a patch re-checks the whole provider).
Result<ProviderSpec> parse_provider_spec(const boost::json::object& fields, const SpecRules& rules,
                                         bool has_sealed_secret = false);

// `current` changed by a merge-patch: null removes an optional field; name, kind, preset, issuer and
// tenant cannot change (422 immutable).
Result<ProviderSpec> patch_provider_spec(const Provider& current, const boost::json::object& patch, const SpecRules& rules);

}  // namespace tessera::external
