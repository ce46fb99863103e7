#include "snmp/session.h"

namespace vrrp::snmp {

std::string_view ToString(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::kTimeout:
      return "timeout";
    case ErrorReason::kAuthentication:
      return "authentication";
    case ErrorReason::kNoSuchObject:
      return "no_such_object";
    case ErrorReason::kMalformed:
      return "malformed_response";
    case ErrorReason::kSend:
      return "send";
  }
  return "unknown";
}

}  // namespace vrrp::snmp
