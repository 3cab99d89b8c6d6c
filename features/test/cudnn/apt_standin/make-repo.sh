#!/bin/sh
# Builds a stand-in of NVIDIA's flat apt repository at /srv/cuda-repo: the package names and
# file layout the features expect, with stub libraries that answer the version calls, a Release
# signed by a throwaway key, and that key published as 3bf863cc.pub (the name NVIDIA uses).
set -eu
REPO=/srv/cuda-repo
mkdir -p "$REPO" /build && cd /build

deb() {  # deb NAME TREE: package the folder TREE as NAME 1.0-1
    mkdir -p "$2/DEBIAN"
    printf 'Package: %s\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: test <test@example.invalid>\nDescription: stand-in for %s\n' \
        "$1" "$1" >"$2/DEBIAN/control"
    dpkg-deb --build --root-owner-group "$2" "$REPO/$1_1.0-1_amd64.deb" >/dev/null
}

# Two CUDA versions, so the test can see that the requested one was picked.
for v in 12.6 12.8; do
    n=$(echo "$v" | awk -F. '{print $1*1000+$2*10}')
    lib="cudart-$v/usr/local/cuda-$v/targets/x86_64-linux/lib"
    mkdir -p "$lib"
    echo "int cudaRuntimeGetVersion(int *v) { *v = $n; return 0; }" >cudart.c
    gcc -shared -fPIC -Wl,-soname,libcudart.so.12 cudart.c -o "$lib/libcudart.so.12"
    ln -s targets/x86_64-linux/lib "cudart-$v/usr/local/cuda-$v/lib64"
    deb "cuda-cudart-$(echo "$v" | tr . -)" "cudart-$v"
done

mkdir -p cudnn/usr/lib/x86_64-linux-gnu
echo 'unsigned long cudnnGetVersion(void) { return 91000; }' >cudnn.c
gcc -shared -fPIC -Wl,-soname,libcudnn.so.9 cudnn.c -o cudnn/usr/lib/x86_64-linux-gnu/libcudnn.so.9
deb libcudnn9-cuda-12 cudnn

export GNUPGHOME=/build/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-generate-key 'CUDA stand-in repo' rsa2048 sign never
gpg --armor --export >"$REPO/3bf863cc.pub"
cd "$REPO"
apt-ftparchive packages . >Packages
apt-ftparchive release . >Release
gpg --batch --clearsign -o InRelease Release
gpg --batch -abs -o Release.gpg Release
