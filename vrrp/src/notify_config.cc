#include "vrrp/notify_config.h"

#include <utility>

namespace vrrp {

SharedNotifyHooks::SharedNotifyHooks(NotifyHooks hooks) {
  // Nothing to share for the common case: no hooks, default timeout.
  if (hooks == Default()) return;
  hooks_ = std::make_shared<const NotifyHooks>(std::move(hooks));
}

const NotifyHooks& SharedNotifyHooks::Default() {
  static const NotifyHooks kDefault;
  return kDefault;
}

}  // namespace vrrp
