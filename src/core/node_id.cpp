#include "core/node_id.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "crypto/random.hpp"

namespace tessera {

std::string load_node_id(const std::string& data_dir) {
  auto file = std::filesystem::path(data_dir) / "node-id";
  std::string id;
  if (std::ifstream in(file); in && std::getline(in, id) && id.size() == 16) return id;
  std::error_code ignored;
  std::filesystem::create_directories(data_dir, ignored);
  id = crypto::hex_encode(crypto::random_bytes(8));
  std::ofstream out(file, std::ios::trunc);
  if (!(out << id << "\n") || !out.flush()) throw std::runtime_error("cannot write " + file.string());
  return id;
}

}  // namespace tessera
