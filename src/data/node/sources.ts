/**
 * Download locations and SHA-256 checksums of the official MNIST and Fashion-MNIST files.
 *
 * The checksums were computed with `node:crypto` (`createHash('sha256')`) from the copies in
 * `shared/data/{mnist,fashion-mnist}/`, which their SOURCE.md documents as byte-identical to the
 * original releases (they match the upstream-published MD5s and git blob ids); the values also
 * agree with the sha256 column of those SOURCE.md files.
 *
 * The URLs are not listed in SOURCE.md. They are the well-known distribution points: the original
 * MNIST page (yann.lecun.com, now often unreachable without a browser) followed by the mirrors that
 * torchvision uses, and the Fashion-MNIST S3 bucket named in the zalandoresearch/fashion-mnist README
 * followed by the files committed in that repository. Any mirror is safe because every download is
 * checked against the checksum before it is kept.
 */

/** Names of the IDX datasets that can be loaded and downloaded. */
export type IdxDatasetName = 'mnist' | 'fashion-mnist';

/** One file of an IDX dataset release. */
export interface IdxFileSource {
  /** Base file name without `.gz`, e.g. `'train-images-idx3-ubyte'`. */
  readonly name: string;
  /** SHA-256 (hex) of the official `.gz` file. */
  readonly sha256: string;
}

/** Where one IDX dataset comes from. */
export interface IdxDatasetSource {
  /** Base URLs tried in order; the file name plus `.gz` is appended. */
  readonly mirrors: readonly string[];
  /** The training images file. */
  readonly trainImages: IdxFileSource;
  /** The training labels file. */
  readonly trainLabels: IdxFileSource;
  /** The test images file. */
  readonly testImages: IdxFileSource;
  /** The test labels file. */
  readonly testLabels: IdxFileSource;
}

/** Official sources of MNIST and Fashion-MNIST (see the module comment for provenance). */
export const IDX_DATASET_SOURCES: Readonly<Record<IdxDatasetName, IdxDatasetSource>> = Object.freeze({
  mnist: {
    mirrors: [
      'http://yann.lecun.com/exdb/mnist/',
      'https://ossci-datasets.s3.amazonaws.com/mnist/',
      'https://storage.googleapis.com/cvdf-datasets/mnist/',
    ],
    trainImages: { name: 'train-images-idx3-ubyte', sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
    trainLabels: { name: 'train-labels-idx1-ubyte', sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
    testImages: { name: 't10k-images-idx3-ubyte', sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
    testLabels: { name: 't10k-labels-idx1-ubyte', sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
  },
  'fashion-mnist': {
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    trainImages: { name: 'train-images-idx3-ubyte', sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
    trainLabels: { name: 'train-labels-idx1-ubyte', sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
    testImages: { name: 't10k-images-idx3-ubyte', sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
    testLabels: { name: 't10k-labels-idx1-ubyte', sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
  },
});
