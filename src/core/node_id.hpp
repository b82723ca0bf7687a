// A node's stable name: random, made at its first start and kept in <data_dir>/node-id, so that a
// restarted node recognizes what its previous run held (outbox leases). Each node of a deployment
// needs its own data dir; copying one node's data dir to make another would give both the same name.
#pragma once

#include <string>

namespace tessera {

// Reads <data_dir>/node-id, creating it (and data_dir) when missing; throws std::runtime_error when
// the directory cannot be written.
std::string load_node_id(const std::string& data_dir);

}  // namespace tessera
