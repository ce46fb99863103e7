#pragma once

// How configuration values appear in error messages, shared by every YAML
// loader (the speaker's configuration, the exporter's web-config) so they
// all quote and describe what they refuse the same way.

#include <string>
#include <string_view>

namespace YAML {
class Node;
}

namespace vrrp {

// Quotes a value from a file. Control bytes are escaped and long values cut,
// so a binary or huge value cannot garble the terminal or flood the log.
std::string Quote(std::string_view text);

// What a node is, for "got ..." in messages: scalars verbatim (quoted);
// a whole nested map would bury the message, so it is "a map".
std::string Describe(const YAML::Node& node);

}  // namespace vrrp
