export {
  createVercelEnvTarget,
  VERCEL_API_URL,
  type VercelEnvironment,
  type VercelEnvTargetSettings,
} from './vercel-env-target.js'
