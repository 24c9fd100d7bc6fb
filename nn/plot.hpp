#pragma once
// Training pictures as PNG files, drawn by gnuplot (Debian: apt-get install gnuplot-nox).
//
//   ag::nn::TrainingHistory history;   // one entry per epoch
//   history.train_loss.push_back(0.52); history.test_accuracy.push_back(0.86); ...
//   ag::nn::plot_training_curves("curves.png", history, "Fashion-MNIST MLP");
//   ag::nn::plot_confusion_matrix("confusion.png",
//       ag::nn::confusion_matrix(truth, predicted, 10), ag::nn::fashion_mnist_class_names());
//
// Each call writes a gnuplot script, runs `gnuplot` on it (pngcairo terminal when gnuplot has
// it, else png) and moves the picture into place atomically. Failures, a missing gnuplot
// included, throw ag::Error with op "plot" naming the file.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag::nn {

// True when a `gnuplot` executable is on the PATH.
bool gnuplot_available();

// Per-epoch figures; entry i belongs to epoch i + 1. Empty series are left out of the plot.
struct TrainingHistory {
  std::vector<double> train_loss;
  std::vector<double> test_loss;
  std::vector<double> train_accuracy;  // fractions in [0, 1]
  std::vector<double> test_accuracy;
};

// Two panels side by side: loss per epoch, accuracy per epoch.
void plot_training_curves(const std::filesystem::path& png, const TrainingHistory& history,
                          const std::string& title = "Training");

// counts[true_class * num_classes + predicted_class] for labels in [0, num_classes).
std::vector<std::int64_t> confusion_matrix(std::span<const std::int64_t> truth,
                                           std::span<const std::int64_t> predicted,
                                           int num_classes);

// A heat map of a square confusion matrix (rows: true class, columns: predicted class), cells
// coloured by the fraction of their row and labelled with their count. `class_names` may be
// empty (classes are then numbered) or hold one name per class.
void plot_confusion_matrix(const std::filesystem::path& png, std::span<const std::int64_t> counts,
                           const std::vector<std::string>& class_names = {},
                           const std::string& title = "Confusion matrix");

// Maps a float32 [M, 2] tensor of points to M predicted classes in [0, num_classes).
using Classifier = std::function<std::vector<std::int64_t>(const Tensor& points)>;

// The classes `classify` assigns over a resolution x resolution grid covering the points
// (with a margin), drawn as coloured regions, with the points on top coloured by their label.
// `points` is [N, 2] (float32 or float64); labels in [0, num_classes).
void plot_decision_regions(const std::filesystem::path& png, const Tensor& points,
                           std::span<const std::int64_t> labels, int num_classes,
                           const Classifier& classify,
                           const std::string& title = "Decision regions", int resolution = 200);

}  // namespace ag::nn
