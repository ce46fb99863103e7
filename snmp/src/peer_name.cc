#include <algorithm>
#include <cctype>

#include "snmp/module.h"

namespace vrrp::snmp {
namespace {

bool HostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
         c == '_' || c == ':';
}

}  // namespace

Result<std::string, std::string> PeerName(const std::string& target) {
  if (target.empty()) return Err(std::string("target is empty"));
  if (target.size() > 255) return Err(std::string("target is too long"));
  std::string host = target;
  std::string port = "161";
  bool v6 = false;
  if (target.front() == '[') {
    const size_t close = target.find(']');
    if (close == std::string::npos) {
      return Err(std::string("target: missing ']'"));
    }
    host = target.substr(1, close - 1);
    v6 = true;
    if (close + 1 < target.size()) {
      if (target[close + 1] != ':') return Err(std::string("target: bad port"));
      port = target.substr(close + 2);
    }
  } else {
    const size_t colon = target.find(':');
    if (colon != std::string::npos) {
      if (target.find(':', colon + 1) != std::string::npos) {
        return Err(std::string("target: write IPv6 addresses as [ADDR]:PORT"));
      }
      host = target.substr(0, colon);
      port = target.substr(colon + 1);
    }
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), HostChar) ||
      (!v6 && host.find(':') != std::string::npos)) {
    return Err(std::string("target: bad host"));
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) == 0 || std::stoi(port) > 65535) {
    return Err(std::string("target: bad port"));
  }
  return v6 ? "udp6:[" + host + "]:" + port : "udp:" + host + ":" + port;
}

}  // namespace vrrp::snmp
