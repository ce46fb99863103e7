#pragma once

#include <utility>
#include <variant>

namespace vrrp {

// Result<T, E>: a value or an error, for everything fed by the network or a
// file. (std::expected is C++23; this is the subset we need.)
template <typename E>
struct Err {
  // A constructor, not an aggregate: clang 14 has no parenthesized
  // aggregate initialization.
  explicit Err(E e) : error(std::move(e)) {}
  E error;
};

template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <typename F>
  Result(Err<F> err) : v_(std::in_place_index<1>, std::move(err.error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Callers check ok() first; these are programming errors, not input errors.
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const E& error() const& { return std::get<1>(v_); }
  E& error() & { return std::get<1>(v_); }

  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, E> v_;
};

// The value of a Result that has nothing to return but can fail.
struct Unit {};
inline constexpr Unit kOk{};

}  // namespace vrrp
