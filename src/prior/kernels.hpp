#pragma once
// The gated PixelCNN's kernels other than its products (gated_pixelcnn.cpp):
// the embedding, the gates, biases, ReLU, the softmax and its cross-entropy.
// Activations are [rows, n]: one channel per row, one column per position of
// the batch (causal_conv.hpp); logits are [n, K], one position per row.
//
// float runs the vectorizable approximations of backend/cpu/vector_math.hpp
// (tanh, sigmoid, exp within 3 ulp); double runs libm, so that the
// finite-difference and normalization tests see exact functions. Every sum
// runs in an order fixed by the shapes and every output element is one
// thread's: the same numbers on any thread count.
#include <cstddef>
#include <cstdint>

namespace aevb::pixelcnn {

/// e[c, col] = table[codes[col], c]: the embedding of each position, [channels, n].
template <class T>
void embed(std::size_t channels, std::size_t n, const std::uint32_t* codes, const T* table, T* e);

/// dtable[k, c] = the sum over the columns holding code k, in order, of
/// de[c, col] (written over dtable [codes_k, channels]).
template <class T>
void embed_backward(std::size_t codes_k, std::size_t channels, std::size_t n, const std::uint32_t* codes, const T* de,
                    T* dtable);

/// out[r, col] = bias[r] + skip[r, col] (skip may be null): what a product
/// W x then adds to with beta = 1.
template <class T>
void fill_bias(std::size_t rows, std::size_t n, const T* bias, const T* skip, T* out);

/// out[r, k] = bias[k] for every row: the logits' bias.
template <class T>
void broadcast_rows(std::size_t rows, std::size_t k, const T* bias, T* out);

/// The gated activation (van den Oord et al. 2016, eq. 2) of a [2C, n]:
/// y[c] = tanh(a[c]) * sigmoid(a[C + c]) [C, n], keeping tanh in gate[c] and
/// sigmoid in gate[C + c] for the backward pass (gate may be a).
template <class T>
void gate_forward(std::size_t channels, std::size_t n, const T* a, T* gate, T* y);

/// Its backward from dy [C, n] and the kept (t, s): da[c] = dy s (1 - t^2),
/// da[C + c] = dy t s (1 - s); written over da, or added with `accumulate`
/// (da may be gate).
template <class T>
void gate_backward(std::size_t channels, std::size_t n, const T* gate, const T* dy, T* da, bool accumulate);

/// x = max(x, 0) in place; dy *= [y > 0].
template <class T>
void relu(T* x, std::size_t n);
template <class T>
void relu_backward(const T* y, T* dy, std::size_t n);

/// out[r] = sum_col x[r, col] (the bias gradients).
template <class T>
void row_sums(std::size_t rows, std::size_t n, const T* x, T* out);
/// out[k] = sum_r x[r, k], rows in order.
template <class T>
void column_sums(std::size_t rows, std::size_t k, const T* x, T* out);

/// Per row of logits [rows, k]: probs = softmax(logits) and
/// nll[r] = log sum exp(logits[r]) - logits[r, codes[r]], in nats.
template <class T>
void softmax_nll(std::size_t rows, std::size_t k, const T* logits, const std::uint32_t* codes, T* probs, double* nll);

/// The cross-entropy's gradient from the softmax, in place:
/// probs[r, k] = scale * (probs[r, k] - [k == codes[r]]).
template <class T>
void softmax_backward(std::size_t rows, std::size_t k, const std::uint32_t* codes, T scale, T* probs);

}  // namespace aevb::pixelcnn
