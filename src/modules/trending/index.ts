export { RECOMPUTE_TRENDING_JOB, recomputeTrendingJob } from './jobs.ts'
export { trendingRoutes } from './routes.ts'
