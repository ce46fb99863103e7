#include "netsnmp_engine.h"

#include "agentx_subagent.h"

// net-snmp's headers define many macros; they stay in this file.
// net-snmp-config.h must come first.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
// clang-format on
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <unordered_map>

namespace vrrp::snmp {
namespace {

using Clock = std::chrono::steady_clock;

// While a discovery failed less than this long ago, SNMPv3 probes of that
// peer fail at once (see Open()).
constexpr auto kDiscoveryBackoff = std::chrono::seconds(30);
// A walk longer than this is an agent gone wrong (or hostile), not a table.
constexpr size_t kMaxWalkRows = 200000;
// usmStats (RFC 3414 §5): a Report with one of these is a USM failure:
// unknown user, wrong digest, decryption error, not in time window...
const Oid kUsmStats = {1, 3, 6, 1, 6, 3, 15, 1, 1};

VarBind Convert(const netsnmp_variable_list* v) {
  VarBind b;
  b.oid.assign(v->name, v->name + v->name_length);
  switch (v->type) {
    case ASN_INTEGER:
      b.type = VarType::kInteger;
      b.number = v->val.integer ? *v->val.integer : 0;
      break;
    case ASN_OCTET_STR:
      b.type = VarType::kOctetString;
      if (v->val.string) {
        b.bytes.assign(reinterpret_cast<const char*>(v->val.string),
                       v->val_len);
      }
      break;
    case ASN_IPADDRESS:
      b.type = VarType::kIpAddress;
      if (v->val.string) {
        b.bytes.assign(reinterpret_cast<const char*>(v->val.string),
                       v->val_len);
      }
      break;
    case ASN_OBJECT_ID:
      b.type = VarType::kObjectId;
      if (v->val.objid) {
        for (size_t i = 0; i < v->val_len / sizeof(oid); ++i) {
          if (i) b.bytes += '.';
          b.bytes += std::to_string(v->val.objid[i]);
        }
      }
      break;
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS:
      b.type = v->type == ASN_COUNTER ? VarType::kCounter32
               : v->type == ASN_GAUGE ? VarType::kGauge32
                                      : VarType::kTimeTicks;
      // u_long in net-snmp; only the low 32 bits are the value.
      b.number =
          v->val.integer
              ? static_cast<int64_t>(static_cast<uint32_t>(*v->val.integer))
              : 0;
      break;
    case ASN_COUNTER64:
      b.type = VarType::kCounter64;
      if (v->val.counter64) {
        const uint64_t c =
            (static_cast<uint64_t>(v->val.counter64->high) << 32) |
            (v->val.counter64->low & 0xffffffffu);
        // Prometheus values are doubles; int64 holds every counter we meet.
        b.number = static_cast<int64_t>(c & 0x7fffffffffffffffull);
      }
      break;
    case ASN_NULL:
      b.type = VarType::kNull;
      break;
    case SNMP_NOSUCHOBJECT:
      b.type = VarType::kNoSuchObject;
      break;
    case SNMP_NOSUCHINSTANCE:
      b.type = VarType::kNoSuchInstance;
      break;
    case SNMP_ENDOFMIBVIEW:
      b.type = VarType::kEndOfMibView;
      break;
    default:
      b.type = VarType::kOther;
  }
  return b;
}

bool LessThan(const Oid& a, const Oid& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// net-snmp keeps one global USM user per (engine ID, user name), created
// from the first session's keys and never updated by later sessions
// (usm_create_user_from_session in snmplib/snmpusm.c): a module with wrong
// keys would then succeed with another module's right ones, or the reverse.
// So before a session with known engine ID opens, a user of that name whose
// localized keys differ from the session's is removed; the session creates
// it again from its own keys.
void DropStaleUser(const std::string& engine_id, netsnmp_session& s) {
  auto* eid = reinterpret_cast<const u_char*>(engine_id.data());
  usmUser* user = usm_get_user(eid, engine_id.size(), s.securityName);
  if (user == nullptr) return;
  auto differs = [&](const u_char* ku, size_t ku_len, const u_char* have,
                     size_t have_len) {
    if (ku_len == 0) return have_len != 0;
    u_char kul[USM_LENGTH_KU_HASHBLOCK];
    size_t kul_len = sizeof kul;
    if (generate_kul(s.securityAuthProto, s.securityAuthProtoLen, eid,
                     engine_id.size(), ku, ku_len, kul,
                     &kul_len) != SNMPERR_SUCCESS) {
      return true;
    }
    const size_t n = std::min(kul_len, have_len);
    return have == nullptr || n == 0 || memcmp(kul, have, n) != 0;
  };
  const bool same_protocols =
      snmp_oid_compare(user->authProtocol, user->authProtocolLen,
                       s.securityAuthProto, s.securityAuthProtoLen) == 0 &&
      (s.securityPrivProto == nullptr ||
       snmp_oid_compare(user->privProtocol, user->privProtocolLen,
                        s.securityPrivProto, s.securityPrivProtoLen) == 0);
  if (same_protocols &&
      !differs(s.securityAuthKey, s.securityAuthKeyLen, user->authKey,
               user->authKeyLen) &&
      !differs(s.securityPrivKey, s.securityPrivKeyLen, user->privKey,
               user->privKeyLen)) {
    return;
  }
  usm_remove_user(user);
  usm_free_user(user);
}

}  // namespace

class NetSnmpSession;

struct NetSnmpEngine::Impl {
  using PduCallback = std::function<void(int op, netsnmp_pdu* pdu)>;
  struct Pending {
    uint64_t session_id = 0;
    PduCallback callback;
  };

  int wake_fd = -1;
  std::function<void(const std::string&)> log;
  EngineOptions options;
  bool agent = false;
  std::mutex mu;
  std::vector<std::function<void()>> queue;  // guarded by mu
  bool stopping = false;                     // guarded by mu

  // SNMP thread only from here on.
  EngineStats* stats = nullptr;
  uint64_t next_id = 1;
  std::map<uint64_t, void*> sessions;  // open sessions by id: handle
  std::vector<void*> to_close;         // closed at the top of the loop
  std::unordered_map<uint64_t, Pending> pending;
  std::map<std::string, std::string> engine_ids;
  std::map<std::string, Clock::time_point> discovery_failed;

  static int OnPdu(int op, netsnmp_session*, int, netsnmp_pdu* pdu,
                   void* magic);
  Impl* self() { return this; }
};

namespace {
// The one engine of the process (net-snmp's state is global anyway); the
// request callback finds it here.
NetSnmpEngine::Impl* g_impl = nullptr;
// init_snmp() once per process: net-snmp's state is global, and its
// shutdown frees it only in part (a second init_snmp leaks the MIB tables
// of the first, as LeakSanitizer shows), so a later engine (tests start
// several) reuses it.
bool g_initialized = false;
}  // namespace

int NetSnmpEngine::Impl::OnPdu(int op, netsnmp_session*, int, netsnmp_pdu* pdu,
                               void* magic) {
  Impl* impl = g_impl;
  if (impl == nullptr) return 1;
  const auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(magic));
  if (op == NETSNMP_CALLBACK_OP_RESEND) {
    ++impl->stats->requests_retried;
    return 1;
  }
  auto it = impl->pending.find(id);
  if (it == impl->pending.end()) return 1;
  Pending p = std::move(it->second);
  impl->pending.erase(it);
  if (!impl->sessions.count(p.session_id)) return 1;  // closed meanwhile
  p.callback(op, pdu);
  return 1;
}

class NetSnmpSession : public Session {
 public:
  NetSnmpSession(NetSnmpEngine::Impl* impl, void* handle, uint64_t id,
                 const Module& m, std::string cache_key)
      : impl_(impl),
        cache_key_(std::move(cache_key)),
        handle_(handle),
        id_(id),
        bulk_(m.bulk_repetitions),
        context_(m.context_name),
        v3_(m.version == SnmpVersion::kV3) {}
  ~NetSnmpSession() override {
    // Never closed here: this may run inside one of the session's own
    // callbacks, from snmp_sess_read2 on this very handle.
    impl_->sessions.erase(id_);
    impl_->to_close.push_back(handle_);
    --impl_->stats->open_sessions;
  }

  void Get(std::vector<Oid> oids, ReplyCallback done) override {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    for (const Oid& o : oids) AddNull(pdu, o);
    Send(pdu, [done = std::move(done)](Reply r) { done(std::move(r)); });
  }

  void Walk(Oid column, ReplyCallback done) override {
    auto state = std::make_shared<WalkState>();
    state->column = column;
    state->next = std::move(column);
    state->done = std::move(done);
    Step(std::move(state));
  }

 private:
  struct WalkState {
    Oid column;
    Oid next;
    VarBinds rows;
    ReplyCallback done;
  };

  void AddNull(netsnmp_pdu* pdu, const Oid& o) {
    std::vector<oid> n(o.begin(), o.end());
    snmp_add_null_var(pdu, n.data(), n.size());
  }

  void Step(std::shared_ptr<WalkState> st) {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
    pdu->non_repeaters = 0;
    pdu->max_repetitions = bulk_;
    AddNull(pdu, st->next);
    Send(pdu, [this, st](Reply r) {
      if (!r.ok()) {
        st->done(std::move(r));
        return;
      }
      VarBinds& got = r.value();
      for (VarBind& b : got) {
        if (b.type == VarType::kEndOfMibView || !HasPrefix(b.oid, st->column)) {
          st->done(std::move(st->rows));
          return;
        }
        // RFC 3416 §4.2.3: each OID follows the one asked for; an agent that
        // goes backwards would have us walk forever.
        if (!LessThan(st->next, b.oid) || st->rows.size() >= kMaxWalkRows) {
          st->done(
              Err(SnmpError{ErrorReason::kMalformed,
                            "walk of " + ToString(st->column) +
                                ": OID not increasing at " + ToString(b.oid)}));
          return;
        }
        st->next = b.oid;
        st->rows.push_back(std::move(b));
      }
      if (got.empty()) {
        st->done(std::move(st->rows));
        return;
      }
      Step(st);  // `this` is alive: callbacks of a closed session are dropped
    });
  }

  void Send(netsnmp_pdu* pdu, ReplyCallback done) {
    if (v3_ && !context_.empty()) {
      pdu->contextName = static_cast<char*>(malloc(context_.size()));
      memcpy(pdu->contextName, context_.data(), context_.size());
      pdu->contextNameLen = context_.size();
    }
    const uint64_t rid = impl_->next_id++;
    impl_->pending[rid] = {id_, [this, done](int op, netsnmp_pdu* resp) {
                             LearnEngineId();
                             done(Decode(op, resp));
                           }};
    ++impl_->stats->requests_sent;
    if (snmp_sess_async_send(
            handle_, pdu, &NetSnmpEngine::Impl::OnPdu,
            reinterpret_cast<void*>(static_cast<uintptr_t>(rid))) == 0) {
      // man snmp_send: the PDU is ours to free when the send fails.
      snmp_free_pdu(pdu);
      impl_->pending.erase(rid);
      int liberr = 0, syserr = 0;
      char* msg = nullptr;
      snmp_sess_error(handle_, &liberr, &syserr, &msg);
      std::string text = msg ? msg : "send failed";
      free(msg);
      const bool auth = liberr == SNMPERR_AUTHENTICATION_FAILURE ||
                        liberr == SNMPERR_UNKNOWN_USER_NAME ||
                        liberr == SNMPERR_USM_AUTHENTICATIONFAILURE ||
                        liberr == SNMPERR_USM_UNKNOWNSECURITYNAME;
      const bool timeout = liberr == SNMPERR_TIMEOUT;
      done(Err(SnmpError{auth      ? ErrorReason::kAuthentication
                         : timeout ? ErrorReason::kTimeout
                                   : ErrorReason::kSend,
                         text}));
    }
  }

  // net-snmp discovers the engine ID on the first send (RFC 3414 §4);
  // kept per peer and user, so that the next session skips the blocking
  // discovery and DropStaleUser can check the user's keys.
  void LearnEngineId() {
    if (!v3_ || impl_->engine_ids.count(cache_key_)) return;
    const netsnmp_session* live = snmp_sess_session(handle_);
    if (live != nullptr && live->securityEngineIDLen > 0) {
      impl_->engine_ids[cache_key_].assign(
          reinterpret_cast<const char*>(live->securityEngineID),
          live->securityEngineIDLen);
      impl_->discovery_failed.erase(cache_key_);
    }
  }

  static Reply Decode(int op, netsnmp_pdu* pdu) {
    switch (op) {
      case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
        break;
      case NETSNMP_CALLBACK_OP_TIMED_OUT:
        return Err(SnmpError{ErrorReason::kTimeout, "no answer"});
      case NETSNMP_CALLBACK_OP_SEC_ERROR:
        return Err(
            SnmpError{ErrorReason::kAuthentication, "SNMPv3 security error"});
      default:
        return Err(SnmpError{ErrorReason::kSend,
                             "request failed (op " + std::to_string(op) + ")"});
    }
    if (pdu == nullptr) {
      return Err(SnmpError{ErrorReason::kMalformed, "empty answer"});
    }
    if (pdu->command == SNMP_MSG_REPORT) {
      const netsnmp_variable_list* v = pdu->variables;
      if (v != nullptr) {
        const Oid o(v->name, v->name + v->name_length);
        if (HasPrefix(o, kUsmStats)) {
          return Err(SnmpError{ErrorReason::kAuthentication,
                               "USM report " + ToString(o)});
        }
      }
      return Err(SnmpError{ErrorReason::kMalformed, "unexpected report"});
    }
    if (pdu->errstat != SNMP_ERR_NOERROR) {
      const bool auth = pdu->errstat == SNMP_ERR_AUTHORIZATIONERROR;
      return Err(SnmpError{
          auth ? ErrorReason::kAuthentication : ErrorReason::kMalformed,
          std::string("error-status ") + snmp_errstring(pdu->errstat)});
    }
    VarBinds out;
    for (netsnmp_variable_list* v = pdu->variables; v; v = v->next_variable) {
      out.push_back(Convert(v));
    }
    return out;
  }

  NetSnmpEngine::Impl* impl_;
  std::string cache_key_;
  void* handle_;
  uint64_t id_;
  int bulk_;
  std::string context_;
  bool v3_;
};

NetSnmpEngine::NetSnmpEngine() : impl_(std::make_unique<Impl>()) {
  impl_->stats = &stats_;
}

Result<std::unique_ptr<NetSnmpEngine>, std::string> NetSnmpEngine::Start(
    EngineOptions options) {
  if (g_impl != nullptr) {
    return Err(std::string("an SNMP engine already runs in this process"));
  }
  if (g_initialized && !options.agentx_socket.empty()) {
    return Err(std::string(
        "the AgentX subagent must be the process's first SNMP engine"));
  }
  std::unique_ptr<NetSnmpEngine> e(new NetSnmpEngine());
  if (!options.agentx_socket.empty()) {
    e->agentx_ =
        std::make_unique<AgentXSubagent>(options.agentx_view, options.log);
  }
  e->impl_->log = options.log;
  e->impl_->agent = !options.agentx_socket.empty();
  e->impl_->options = std::move(options);
  e->impl_->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (e->impl_->wake_fd < 0) {
    return Err(std::string("eventfd: ") + strerror(errno));
  }
  g_impl = e->impl_.get();
  std::promise<void> ready;
  auto ready_f = ready.get_future();
  e->thread_ = std::thread([&ready, raw = e.get()] {
    Impl& im = *raw->impl_;
    if (g_initialized) {
      ready.set_value();
      raw->Loop();
      return;
    }
    g_initialized = true;
    // No MIB files (Debian ships none of ours; numeric OIDs everywhere), no
    // configuration files, and no persistent state, or net-snmp would
    // write /var/lib/snmp/vrrp_exporter.conf.
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
                           NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
                           NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
                           NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
                           NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    // net-snmp's alarms (AgentX pings and reconnects) from our loop, never
    // from SIGALRM in a process that has other threads.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID,
                           NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    // With no handler at all, net-snmp logs to stderr; the call-log
    // handler without callbacks drops its messages (ours carry the error).
    snmp_disable_log();
    snmp_enable_calllog();
    if (im.agent) {
      // As keepalived/core/snmp.c does: subagent role and socket, then
      // init_agent; the ping interval only after it, since init_agent
      // resets it (agentx_config.c).
      netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE,
                             1);
      netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID,
                            NETSNMP_DS_AGENT_X_SOCKET,
                            im.options.agentx_socket.c_str());
      init_agent("vrrp_exporter");
      netsnmp_ds_set_int(
          NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
          static_cast<int>(im.options.agentx_ping_interval.count()));
      raw->agentx_->Register();
    }
    // With the subagent role this opens the AgentX session: a blocking
    // connect and register on this thread only (a dead snmpd fails at
    // once; net-snmp retries every ping interval).
    init_snmp("vrrp_exporter");
    ready.set_value();
    raw->Loop();
  });
  ready_f.wait();
  return e;
}

const AgentXStats* NetSnmpEngine::agentx_stats() const {
  return agentx_ ? &agentx_->stats() : nullptr;
}

NetSnmpEngine::~NetSnmpEngine() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
  }
  const uint64_t one = 1;
  (void)!write(impl_->wake_fd, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  close(impl_->wake_fd);
  g_impl = nullptr;
}

void NetSnmpEngine::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->queue.push_back(std::move(task));
  }
  const uint64_t one = 1;
  (void)!write(impl_->wake_fd, &one, sizeof one);
}

void NetSnmpEngine::Loop() {
  Impl& im = *impl_;
  std::vector<pollfd> fds;
  std::vector<std::pair<uint64_t, void*>> polled;
  netsnmp_large_fd_set set;
  netsnmp_large_fd_set_init(&set, FD_SETSIZE);
  netsnmp_large_fd_set agent_set;
  netsnmp_large_fd_set_init(&agent_set, FD_SETSIZE);
  auto next_tick = std::chrono::steady_clock::now();
  for (;;) {
    for (void* h : im.to_close) snmp_sess_close(h);
    im.to_close.clear();
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> l(im.mu);
      if (im.stopping) break;
      tasks.swap(im.queue);
    }
    for (auto& t : tasks) t();
    if (!tasks.empty()) continue;  // they may have closed or opened sessions

    fds.clear();
    polled.clear();
    fds.push_back({im.wake_fd, POLLIN, 0});
    for (const auto& [id, h] : im.sessions) {
      netsnmp_transport* t = snmp_sess_transport(h);
      if (t == nullptr || t->sock < 0) continue;
      fds.push_back({t->sock, POLLIN, 0});
      polled.emplace_back(id, h);
    }
    // net-snmp retransmits and times requests out only when asked
    // (snmp_sess_timeout): a 10 ms tick while anything is outstanding keeps
    // timeouts within 10 ms of the module's; idle, the thread sleeps.
    int wait_ms = im.pending.empty() ? -1 : 10;
    // The AgentX session (net-snmp's global session list) and its alarms,
    // as agent_check_and_process() would: its fds change on reconnects,
    // so they are asked for every time.
    const size_t agent_first = fds.size();
    if (im.agent) {
      int numfds = 0, block = 1;
      timeval tv{};
      NETSNMP_LARGE_FD_ZERO(&agent_set);
      snmp_select_info2(&numfds, &agent_set, &tv, &block);
      for (int fd = 0; fd < numfds; ++fd) {
        if (NETSNMP_LARGE_FD_ISSET(fd, &agent_set)) {
          fds.push_back({fd, POLLIN, 0});
        }
      }
      if (!block) {
        const int ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
        wait_ms = wait_ms < 0 ? ms : std::min(wait_ms, ms);
      }
    }
    if (im.agent) {
      const auto now = std::chrono::steady_clock::now();
      const int ms = static_cast<int>(std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - now)
              .count()));
      wait_ms = wait_ms < 0 ? ms : std::min(wait_ms, ms);
    }
    const int n = poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) {
      if (im.log) im.log(std::string("snmp: poll: ") + strerror(errno));
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      (void)!read(im.wake_fd, &v, sizeof v);
    }
    for (size_t i = 0; n > 0 && i < polled.size(); ++i) {
      if (!(fds[i + 1].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      // A callback may have closed this session.
      if (!im.sessions.count(polled[i].first)) continue;
      NETSNMP_LARGE_FD_ZERO(&set);
      NETSNMP_LARGE_FD_SET(fds[i + 1].fd, &set);
      snmp_sess_read2(polled[i].second, &set);
    }
    // Copy: timeouts call back, and callbacks close sessions.
    polled.assign(im.sessions.begin(), im.sessions.end());
    for (const auto& [id, h] : polled) {
      if (im.sessions.count(id)) snmp_sess_timeout(h);
    }
    if (im.agent) {
      NETSNMP_LARGE_FD_ZERO(&agent_set);
      bool readable = false;
      for (size_t i = agent_first; i < fds.size(); ++i) {
        if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) {
          NETSNMP_LARGE_FD_SET(fds[i].fd, &agent_set);
          readable = true;
        }
      }
      if (readable) {
        snmp_read2(&agent_set);
      } else {
        snmp_timeout();
      }
      run_alarms();
      netsnmp_check_outstanding_agent_requests();
    }
    if (im.agent && std::chrono::steady_clock::now() >= next_tick) {
      next_tick = std::chrono::steady_clock::now() + im.options.tick_period;
      if (im.options.agentx_notifications) {
        agentx_->Send(im.options.agentx_notifications());
      }
    }
  }
  // Stopping: drop every callback, then close.
  im.pending.clear();
  for (const auto& [id, h] : im.sessions) snmp_sess_close(h);
  im.sessions.clear();
  for (void* h : im.to_close) snmp_sess_close(h);
  im.to_close.clear();
  netsnmp_large_fd_set_cleanup(&set);
  netsnmp_large_fd_set_cleanup(&agent_set);
  // The subagent closes its AgentX session (snmpd unregisters our
  // subtrees at once); a client-only engine leaves net-snmp initialised for
  // the next one (see g_initialized).
  if (im.agent) snmp_shutdown("vrrp_exporter");
}

Result<std::shared_ptr<Session>, SnmpError> NetSnmpEngine::Open(
    const std::string& target, const Module& m) {
  Impl& im = *impl_;
  auto peer = PeerName(target);
  if (!peer.ok()) return Err(SnmpError{ErrorReason::kSend, peer.error()});
  netsnmp_session s;
  snmp_sess_init(&s);
  std::string peername = *peer;
  s.peername = peername.data();
  s.timeout = static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(m.timeout).count());
  s.retries = m.retries;
  std::string community = m.community;
  std::string user = m.username;
  const std::string cache_key = peername + "|" + m.username;
  std::string engine_id;
  if (m.version == SnmpVersion::kV2c) {
    s.version = SNMP_VERSION_2c;
    s.community = reinterpret_cast<u_char*>(community.data());
    s.community_len = community.size();
  } else {
    s.version = SNMP_VERSION_3;
    s.securityName = user.data();
    s.securityNameLen = user.size();
    s.securityModel = SNMP_SEC_MODEL_USM;
    switch (m.security_level) {
      case SecurityLevel::kNoAuthNoPriv:
        s.securityLevel = SNMP_SEC_LEVEL_NOAUTH;
        break;
      case SecurityLevel::kAuthNoPriv:
        s.securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
        break;
      case SecurityLevel::kAuthPriv:
        s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
        break;
    }
    if (m.security_level != SecurityLevel::kNoAuthNoPriv) {
      switch (m.auth_protocol) {
        case AuthProtocol::kMd5:
          s.securityAuthProto = snmp_duplicate_objid(usmHMACMD5AuthProtocol,
                                                     USM_AUTH_PROTO_MD5_LEN);
          s.securityAuthProtoLen = USM_AUTH_PROTO_MD5_LEN;
          break;
        case AuthProtocol::kSha1:
          s.securityAuthProto = snmp_duplicate_objid(usmHMACSHA1AuthProtocol,
                                                     USM_AUTH_PROTO_SHA_LEN);
          s.securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
          break;
        case AuthProtocol::kSha256:
          s.securityAuthProto =
              snmp_duplicate_objid(usmHMAC192SHA256AuthProtocol,
                                   OID_LENGTH(usmHMAC192SHA256AuthProtocol));
          s.securityAuthProtoLen = OID_LENGTH(usmHMAC192SHA256AuthProtocol);
          break;
        case AuthProtocol::kSha512:
          s.securityAuthProto =
              snmp_duplicate_objid(usmHMAC384SHA512AuthProtocol,
                                   OID_LENGTH(usmHMAC384SHA512AuthProtocol));
          s.securityAuthProtoLen = OID_LENGTH(usmHMAC384SHA512AuthProtocol);
          break;
      }
      s.securityAuthKeyLen = USM_AUTH_KU_LEN;
      std::string pass = m.auth_password;
      if (generate_Ku(
              s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
              reinterpret_cast<const u_char*>(pass.data()), pass.size(),
              s.securityAuthKey, &s.securityAuthKeyLen) != SNMPERR_SUCCESS) {
        SNMP_FREE(s.securityAuthProto);
        return Err(SnmpError{ErrorReason::kAuthentication,
                             "cannot derive the authentication key"});
      }
    }
    if (m.security_level == SecurityLevel::kAuthPriv) {
      if (m.priv_protocol == PrivProtocol::kDes) {
        s.securityPrivProto =
            snmp_duplicate_objid(usmDESPrivProtocol, USM_PRIV_PROTO_DES_LEN);
        s.securityPrivProtoLen = USM_PRIV_PROTO_DES_LEN;
      } else {
        s.securityPrivProto =
            snmp_duplicate_objid(usmAESPrivProtocol, USM_PRIV_PROTO_AES_LEN);
        s.securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
      }
      s.securityPrivKeyLen = USM_PRIV_KU_LEN;
      std::string pass = m.priv_password;
      // The privacy key is derived with the authentication hash
      // (snmp_parse_args.c does the same).
      if (generate_Ku(
              s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
              reinterpret_cast<const u_char*>(pass.data()), pass.size(),
              s.securityPrivKey, &s.securityPrivKeyLen) != SNMPERR_SUCCESS) {
        SNMP_FREE(s.securityAuthProto);
        SNMP_FREE(s.securityPrivProto);
        return Err(SnmpError{ErrorReason::kAuthentication,
                             "cannot derive the privacy key"});
      }
    }
    auto cached = im.engine_ids.find(cache_key);
    if (cached != im.engine_ids.end()) {
      engine_id = cached->second;
      DropStaleUser(engine_id, s);
      s.securityEngineID = reinterpret_cast<u_char*>(engine_id.data());
      s.securityEngineIDLen = engine_id.size();
      s.contextEngineID = reinterpret_cast<u_char*>(engine_id.data());
      s.contextEngineIDLen = engine_id.size();
    } else {
      auto failed = im.discovery_failed.find(cache_key);
      if (failed != im.discovery_failed.end() &&
          Clock::now() - failed->second < kDiscoveryBackoff) {
        SNMP_FREE(s.securityAuthProto);
        SNMP_FREE(s.securityPrivProto);
        return Err(SnmpError{ErrorReason::kTimeout,
                             "SNMPv3 engine discovery failed recently"});
      }
    }
  }
  void* h = snmp_sess_open(&s);
  SNMP_FREE(s.securityAuthProto);
  SNMP_FREE(s.securityPrivProto);
  if (h == nullptr) {
    int liberr = 0, syserr = 0;
    char* msg = nullptr;
    snmp_error(&s, &liberr, &syserr, &msg);
    std::string text = msg ? msg : "cannot open session";
    free(msg);
    ErrorReason reason = ErrorReason::kSend;
    if (liberr == SNMPERR_TIMEOUT) reason = ErrorReason::kTimeout;
    if (liberr == SNMPERR_UNKNOWN_USER_NAME ||
        liberr == SNMPERR_AUTHENTICATION_FAILURE ||
        liberr == SNMPERR_USM_AUTHENTICATIONFAILURE ||
        liberr == SNMPERR_USM_UNKNOWNSECURITYNAME ||
        liberr == SNMPERR_USM_DECRYPTIONERROR) {
      reason = ErrorReason::kAuthentication;
    }
    if (m.version == SnmpVersion::kV3) {
      im.discovery_failed[cache_key] = Clock::now();
    }
    return Err(SnmpError{reason, target + ": " + text});
  }
  if (m.version == SnmpVersion::kV3 && engine_id.empty()) {
    const netsnmp_session* live = snmp_sess_session(h);
    if (live != nullptr && live->securityEngineIDLen > 0) {
      im.engine_ids[cache_key].assign(
          reinterpret_cast<const char*>(live->securityEngineID),
          live->securityEngineIDLen);
      im.discovery_failed.erase(cache_key);
    }
  }
  const uint64_t id = im.next_id++;
  im.sessions[id] = h;
  ++stats_.sessions_opened;
  ++stats_.open_sessions;
  return std::shared_ptr<Session>(
      std::make_shared<NetSnmpSession>(impl_.get(), h, id, m, cache_key));
}

}  // namespace vrrp::snmp

// The module's entry point (engine.h: StartEngineFn), found by dlsym.
extern "C" __attribute__((visibility("default"))) vrrp::snmp::SnmpEngine*
vrrp_snmp_start_engine(vrrp::snmp::EngineOptions* options, std::string* error) {
  auto e = vrrp::snmp::NetSnmpEngine::Start(std::move(*options));
  if (!e.ok()) {
    *error = e.error();
    return nullptr;
  }
  return e.value().release();
}
