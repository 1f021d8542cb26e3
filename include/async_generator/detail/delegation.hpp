// What a generator body is delegating to (Python's ag_await), for the duration of a yield_from_.
#ifndef ASYNC_GENERATOR_DETAIL_DELEGATION_HPP
#define ASYNC_GENERATOR_DETAIL_DELEGATION_HPP

#include <async_generator/detail/frame.hpp>

#include <typeinfo>

namespace async_generator {
namespace detail {

class awaiting_scope {
 public:
  awaiting_scope(frame_base& f, const void* object, const std::type_info& type) noexcept
      : frame_(f), object_(f.delegate_object_), type_(f.delegate_type_) {
    f.delegate_object_ = object;
    f.delegate_type_ = &type;
  }
  awaiting_scope(const awaiting_scope&) = delete;
  awaiting_scope& operator=(const awaiting_scope&) = delete;
  ~awaiting_scope() {
    frame_.delegate_object_ = object_;
    frame_.delegate_type_ = type_;
  }

 private:
  frame_base& frame_;
  const void* object_;
  const std::type_info* type_;
};

}  // namespace detail
}  // namespace async_generator

#endif
