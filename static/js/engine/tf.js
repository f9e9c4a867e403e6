// The one TensorFlow.js every engine module uses: the vendored ES-module build (static/vendor/tfjs-4.22.0/).
// Imported by path relative to this file, so the browser and the Node parity test run the same bytes.
export * from "../../vendor/tfjs-4.22.0/tf.fesm.min.js";
