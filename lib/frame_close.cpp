// The closes the library starts on a generator itself (the one a drop schedules, shutdown_asyncgens'):
// through the record the generator keeps for them, so that they run, and report, when memory is short.
#include <async_generator/detail/executor.hpp>
#include <async_generator/detail/frame_switch.hpp>
#include <async_generator/detail/registry.hpp>

namespace async_generator {
namespace detail {
namespace {

// The generator whose close_start this thread is posting: a live copy of it that Asio destroys
// meanwhile went with a post that failed (the failure is handled where it was posted), not with a
// context that went first.
thread_local const frame_base* posting_close = nullptr;

}  // namespace

void close_record::finish(waiter* w, bool ran) {
  close_record& record = *static_cast<close_record*>(w);
  close_listener* listener = record.listener;
  record.listener = nullptr;
  std::exception_ptr error = std::move(record.error);
  record.error = nullptr;
  listener->close_done(frame_ptr<frame_base>(&record.generator, false), std::move(error), ran);
}

close_start::~close_start() {
  if (generator_ != nullptr && generator_ != posting_close) generator_->library_close_unrun();
}

close_start::allocator_type close_start::get_allocator() const noexcept {
  return allocator_type(generator_->closing_.post_storage);
}

void close_start::operator()() {
  frame_base* generator = generator_;
  generator_ = nullptr;
  generator->run_library_close();
}

void frame_base::start_library_close(close_listener& listener, registry_state& registry, bool here) noexcept {
  closing_.listener = &listener;
  if (here && running_on_executor(*this)) {
    run_library_close();
    return;
  }
  std::exception_ptr failure;
  const frame_base* const outer = posting_close;
  posting_close = this;
  try {
    with_executor(*this, [this](const auto& e) { asio::post(e, close_start(*this)); });
  } catch (...) {
    failure = std::current_exception();
  }
  posting_close = outer;
  // Once posted, the close may have run and ended on another thread: this frame may be gone.
  if (!failure) return;
  registry.report_about("asynchronous generator ", this, " was closed synchronously: its aclose() could not be scheduled",
                        std::move(failure));
  closing_.error = close_here();
  closing_.complete();
}

void frame_base::run_library_close() noexcept {
  if (context_gone_) {
    closing_.destroy();
    return;
  }
  frame_base* target = nullptr;
  try {
    target = begin(closing_, nullptr);
  } catch (...) {
    // Refusing it needed memory (the error's message): the refusal fails with bad_alloc instead.
    closing_.error = std::current_exception();
  }
  if (target == nullptr) {
    closing_.complete();
    return;
  }
  run_chain(target);
}

void frame_base::library_close_unrun() noexcept {
  context_gone_ = true;
  closing_.destroy();
}

std::exception_ptr frame_base::close_here() noexcept {
  waiter closing(op_kind::aclose, waiter_target::native, nullptr, nullptr, nullptr);
  frame_base* target;
  try {
    target = begin(closing, nullptr);
  } catch (...) {
    return std::current_exception();
  }
  if (target == nullptr) return std::move(closing.error);
  // begin() made it an aclose: run without an event loop, its await or yield is refused.
  target->mode_ = resume_mode::close_sync;
  run_chain(target);
  return std::move(target->close_error_);
}

}  // namespace detail
}  // namespace async_generator
