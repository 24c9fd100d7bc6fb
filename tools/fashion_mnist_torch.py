#!/usr/bin/python3
"""The PyTorch twin of examples/fashion_mnist.cpp, for timing and accuracy comparisons:
the same MLP 784-256-128-10 with ReLU, cross-entropy, Adam (lr 1e-3 decayed by 0.8 per epoch,
eps 1e-8), shuffled minibatches of 128, the same data files, the same thread count, evaluation
on the 10,000 test images after each epoch.

  /usr/bin/python3 tools/fashion_mnist_torch.py --epochs 12 --threads 2

Differences that remain: PyTorch's default initialisation (Kaiming uniform) instead of ag's
He/Xavier normal, and its own shuffles; accuracies agree to within run-to-run noise, not bits.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch


def load_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        blob = f.read()
    (magic,) = struct.unpack(">I", blob[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, blob[4:4 + 4 * dims])
    return np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(data_dir, prefix):
    images = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-decay", type=float, default=0.8,
                        help="factor applied to the learning rate after each epoch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train = load_split(args.data_dir, "train")
    x_test, y_test = load_split(args.data_dir, "t10k")
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    seconds = []
    for epoch in range(args.epochs):
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = args.lr * args.lr_decay ** epoch
        start = time.perf_counter()
        permutation = torch.randperm(len(x_train))
        loss_sum, correct = 0.0, 0
        for begin in range(0, len(x_train), args.batch):
            rows = permutation[begin:begin + args.batch]
            x, y = x_train[rows], y_train[rows]
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(rows)
            correct += int((logits.argmax(1) == y).sum())
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        model.eval()
        with torch.no_grad():
            logits = model(x_test)
            test_loss = float(loss_fn(logits, y_test))
            test_accuracy = float((logits.argmax(1) == y_test).float().mean())
        print(f"epoch {epoch + 1:2d}: train {elapsed:.2f} s, train loss {loss_sum / len(x_train):.4f}, "
              f"train acc {correct / len(x_train):.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {test_accuracy:.4f}", flush=True)
    ordered = sorted(seconds)
    print(f"\nseconds per epoch (training): median {ordered[len(ordered) // 2]:.2f}, "
          f"min {ordered[0]:.2f}, max {ordered[-1]:.2f}; {sum(seconds):.1f} s in all")
    print(f"final test accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
