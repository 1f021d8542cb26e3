// The executor an await's handler names: the generator's, guarded by its context's record of
// generators. The awaited operation may belong to another context that outlives the generator's;
// once the generator's context is destroyed, a completion submitted to it is destroyed instead of
// run, and the work counted there is never given back to the freed context.
#ifndef ASYNC_GENERATOR_DETAIL_GUARDED_EXECUTOR_HPP
#define ASYNC_GENERATOR_DETAIL_GUARDED_EXECUTOR_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/detail/registry.hpp>

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace async_generator {
namespace detail {

class guarded_executor {
 public:
  // `key` names the threads of the context when it is an io_context (null: none is known, and
  // whatever comes from another thread goes through the record's lock). `guard` is borrowed: the
  // handler naming this executor keeps it (through its generator) while Asio uses the executor
  // untracked; a tracked copy, which Asio keeps beside the handler, shares it.
  guarded_executor(const asio::any_io_executor& ex, registry_state* guard, compat::thread_key key) noexcept
      : guard_(guard), key_(key) {
    new (&ex_) asio::any_io_executor(ex);
  }
  guarded_executor(const guarded_executor& other) noexcept
      : guard_(other.guard_), owner_(other.owner_), key_(other.key_), tracked_(other.tracked_), never_(other.never_) {
    emplace([&] { return other.ex_; });
  }
  guarded_executor(guarded_executor&& other) noexcept
      : guard_(other.guard_), owner_(std::move(other.owner_)), key_(other.key_), tracked_(other.tracked_), never_(other.never_) {
    new (&ex_) asio::any_io_executor(std::move(other.ex_));
    other.tracked_ = false;  // moved from: it counts no work
  }
  guarded_executor& operator=(const guarded_executor& other) noexcept {
    if (this != &other) {
      guarded_executor copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  guarded_executor& operator=(guarded_executor&& other) noexcept {
    if (this != &other) {
      release();
      guard_ = other.guard_;
      owner_ = std::move(other.owner_);
      key_ = other.key_;
      tracked_ = other.tracked_;
      never_ = other.never_;
      new (&ex_) asio::any_io_executor(std::move(other.ex_));
      other.tracked_ = false;
    }
    return *this;
  }
  ~guarded_executor() { release(); }

  template <class F>
  void execute(F&& f) const {
    if (here()) {
      if (never_) {
        ex_.execute(std::forward<F>(f));
      } else {
        std::forward<F>(f)();  // what the io_context's executor does with it on its own thread
      }
      return;
    }
    post_from_elsewhere(typename std::decay<F>::type(std::forward<F>(f)));
  }

  asio::execution_context& query(asio::execution::context_t) const noexcept {
    return asio::query(ex_, asio::execution::context);
  }
  asio::execution::blocking_t query(asio::execution::blocking_t) const noexcept {
    if (never_) return asio::execution::blocking.never;
    return asio::execution::blocking.possibly;
  }
  asio::execution::outstanding_work_t query(asio::execution::outstanding_work_t) const noexcept {
    if (tracked_) return asio::execution::outstanding_work.tracked;
    return asio::execution::outstanding_work.untracked;
  }

  guarded_executor require(asio::execution::blocking_t::never_t p) const {
    return derive(tracked_, true, [&] { return asio::require(ex_, p); });
  }
  guarded_executor require(asio::execution::blocking_t::possibly_t p) const {
    return derive(tracked_, false, [&] { return asio::prefer(ex_, p); });
  }
  guarded_executor require(asio::execution::outstanding_work_t::tracked_t p) const {
    return derive(true, never_, [&] { return asio::prefer(ex_, p); });
  }
  guarded_executor require(asio::execution::outstanding_work_t::untracked_t p) const {
    return derive(false, never_, [&] { return asio::prefer(ex_, p); });
  }

  friend bool operator==(const guarded_executor& a, const guarded_executor& b) noexcept {
    return a.guard_ == b.guard_ && a.tracked_ == b.tracked_ && a.never_ == b.never_ && a.ex_ == b.ex_;
  }
  friend bool operator!=(const guarded_executor& a, const guarded_executor& b) noexcept { return !(a == b); }

 private:
  struct derived {};
  guarded_executor(derived, registry_state* guard, std::shared_ptr<registry_state> owner, compat::thread_key key,
                   bool tracked, bool never) noexcept
      : guard_(guard), owner_(std::move(owner)), key_(key), tracked_(tracked), never_(never) {}

  template <class Make>
  guarded_executor derive(bool tracked, bool never, Make&& make) const {
    std::shared_ptr<registry_state> owner;
    if (tracked && guard_ != nullptr) owner = owner_ != nullptr ? owner_ : guard_->shared_from_this();
    guarded_executor result(derived{}, guard_, std::move(owner), key_, tracked, never);
    result.emplace([&]() -> asio::any_io_executor { return make(); });
    return result;
  }

  template <class F>
  void post_from_elsewhere(F f) const {
    if (guard_ == nullptr) {
      asio::require(ex_, asio::execution::blocking.never).execute(std::move(f));
      return;
    }
    // Posted under the lock, never run there. Once the context is gone, `f` is destroyed on return,
    // outside the lock: the completion never runs.
    guard_->while_alive([&] { asio::require(ex_, asio::execution::blocking.never).execute(std::move(f)); });
  }

  // On a thread running the generator's io_context, which is therefore there (the check of the record
  // rules out another io_context made since at the same address).
  bool here() const noexcept { return compat::runs_here(key_) && (guard_ == nullptr || !guard_->gone()); }

  // Makes ex_, which counts work when tracked_: made elsewhere than on the context's threads only
  // while the context is there, else left empty and counting nothing.
  template <class Make>
  void emplace(Make&& make) noexcept {
    if (!tracked_ || guard_ == nullptr || here()) {
      new (&ex_) asio::any_io_executor(make());
    } else {
      emplace_from_elsewhere(make);
    }
  }
  template <class Make>
  void emplace_from_elsewhere(Make& make) noexcept {
    if (!guard_->while_alive([&] { new (&ex_) asio::any_io_executor(make()); })) {
      new (&ex_) asio::any_io_executor();
      tracked_ = false;
    }
  }
  // Destroys ex_. One that counts work on a destroyed context is forgotten instead: its destructor
  // would give the work back to the freed context. An io_context's executor owns nothing else; what
  // another (a strand) owns is leaked, its destructor reaching into the freed context as well.
  void release() noexcept {
    if (!tracked_ || guard_ == nullptr || here()) {
      ex_.~inner_executor();
    } else {
      release_from_elsewhere();
    }
  }
  void release_from_elsewhere() noexcept {
    guard_->while_alive([&] { ex_.~inner_executor(); });
  }

  // A name of its own for the destructor call: before Asio 1.20, any_io_executor is an alias of
  // another class, whose destructor cannot be named through it unqualified.
  using inner_executor = asio::any_io_executor;
  union {
    inner_executor ex_;
  };
  registry_state* guard_;
  std::shared_ptr<registry_state> owner_;  // set in a tracked copy: the record outlives it
  compat::thread_key key_;
  bool tracked_ = false;
  bool never_ = false;
};

}  // namespace detail
}  // namespace async_generator

#endif
