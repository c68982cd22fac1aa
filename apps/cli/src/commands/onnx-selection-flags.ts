import { OnnxDtypeSchema } from '@hotpath/contracts';
import type { OnnxSelection } from '@hotpath/model-runtime';
import { UsageError } from '@hotpath/cli-kit';

/** Usage lines of `--dtype` and `--onnx-file`. */
export const ONNX_SELECTION_USAGE = `  --dtype D           graph variant of the folder (${OnnxDtypeSchema.options.join(', ')}); default fp32
  --onnx-file F       graph file, relative to the folder (wins over --dtype)`;

/** `--dtype` / `--onnx-file` values → which graph of a folder to use. */
export function onnxSelection(dtype: string | undefined, file: string | undefined): OnnxSelection {
  const d = dtype === undefined ? undefined : OnnxDtypeSchema.safeParse(dtype);
  if (d && !d.success)
    throw new UsageError(`--dtype must be one of ${OnnxDtypeSchema.options.join(', ')}`, 'invalid_dtype');
  return { dtype: d?.data, file };
}
