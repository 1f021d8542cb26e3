#ifndef ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP
#define ASYNC_GENERATOR_DETAIL_STACK_POOL_HPP

#include <async_generator/stack.hpp>

#include <boost/context/stack_context.hpp>

#include <cstddef>

namespace async_generator {
namespace detail {

// Guard-paged stacks, kept for reuse after a generator ends: mapping and protecting a stack costs
// microseconds, taking one from the pool costs nanoseconds.
boost::context::stack_context allocate_stack(std::size_t size);
void deallocate_stack(boost::context::stack_context& sctx) noexcept;

// A Boost.Context StackAllocator over the pool.
class pooled_stack {
 public:
  explicit pooled_stack(std::size_t size) noexcept : size_(size) {}
  boost::context::stack_context allocate() { return allocate_stack(size_); }
  void deallocate(boost::context::stack_context& sctx) noexcept { deallocate_stack(sctx); }

 private:
  std::size_t size_;
};

}  // namespace detail
}  // namespace async_generator

#endif
